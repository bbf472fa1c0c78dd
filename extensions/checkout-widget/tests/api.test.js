import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  KantaApiError,
  callKanta,
  joinRequest,
  loyaltyRequest,
  newIdempotencyKey,
  preferencesBody,
  preferencesRequest,
  redeemRequest,
  subtotalParam,
} from "../src/api.js";

/** A session token source that hands out a new token each time, and counts. */
function tokens() {
  let issued = 0;
  return {
    get issued() {
      return issued;
    },
    async get() {
      issued += 1;
      return `token-${issued}`;
    },
  };
}

/** A fetch that records calls and answers from a queue of {status, body}. */
function fakeFetch(...answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const { status = 200, body = {}, throws = false } = answers.shift() ?? {};
    if (throws) throw new TypeError("Failed to fetch");
    return {
      ok: status >= 200 && status < 300,
      status,
      json: async () => (typeof body === "string" ? JSON.parse(body) : body),
    };
  };
  return { fetch, calls };
}

describe("request bodies", () => {
  test("loyalty asks with the cart subtotal as a decimal string", () => {
    assert.deepEqual(loyaltyRequest("84.5"), { method: "GET", path: "/api/checkout/loyalty?subtotal=84.5" });
    assert.deepEqual(loyaltyRequest(null), { method: "GET", path: "/api/checkout/loyalty" });
  });

  test("the subtotal comes from checkout's Money amount", () => {
    assert.equal(subtotalParam({ amount: 84.5, currencyCode: "EUR" }), "84.5");
    assert.equal(subtotalParam({ amount: 0 }), "0");
    assert.equal(subtotalParam({ amount: 1e-7 }), "0.00");
    for (const money of [null, undefined, {}, { amount: "84.5" }, { amount: -1 }, { amount: Number.NaN }]) {
      assert.equal(subtotalParam(money), null);
    }
  });

  test("join sends only the consent, as a boolean", () => {
    assert.deepEqual(joinRequest(true), { method: "POST", path: "/api/checkout/join", body: { marketing_consent: true } });
    assert.deepEqual(joinRequest(undefined).body, { marketing_consent: false });
  });

  test("redeem sends the reward and an Idempotency-Key", () => {
    assert.deepEqual(redeemRequest("r-5off", "key-1"), {
      method: "POST",
      path: "/api/checkout/redeem",
      body: { reward_id: "r-5off" },
      headers: { "Idempotency-Key": "key-1" },
    });
  });

  test("preferences keep untouched fields, and an empty choice clears", () => {
    const current = { payment_method: "PayPal", delivery_option: "Standard" };
    assert.deepEqual(preferencesBody(current, true, { payment_method: "Credit card" }), {
      payment_method: "Credit card",
      delivery_option: "Standard",
      marketing_consent: true,
    });
    assert.deepEqual(preferencesBody(current, true, { delivery_option: "" }), {
      payment_method: "PayPal",
      delivery_option: null,
      marketing_consent: true,
    });
    assert.deepEqual(preferencesBody(current, null, { marketing_consent: false }), {
      payment_method: "PayPal",
      delivery_option: "Standard",
      marketing_consent: false,
    });
    const body = preferencesBody(current, false, { payment_method: null });
    assert.deepEqual(preferencesRequest(body), { method: "POST", path: "/api/checkout/preferences", body });
  });

  test("no request ever carries a customer id", () => {
    const requests = [loyaltyRequest("1"), joinRequest(true), redeemRequest("r", "k"), preferencesRequest(preferencesBody({ payment_method: null, delivery_option: null }, null, {}))];
    for (const request of requests) assert.doesNotMatch(JSON.stringify(request), /customer/i);
  });
});

describe("newIdempotencyKey", () => {
  test("uses crypto.randomUUID when there is one", () => {
    assert.equal(newIdempotencyKey({ randomUUID: () => "uuid-from-crypto", getRandomValues: () => assert.fail() }), "uuid-from-crypto");
  });

  test("builds a v4 UUID from random bytes otherwise", () => {
    const key = newIdempotencyKey({ getRandomValues: (bytes) => bytes.fill(0xff) });
    assert.equal(key, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    assert.match(newIdempotencyKey({ getRandomValues: (bytes) => globalThis.crypto.getRandomValues(bytes) }), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test("is new on every call", () => {
    assert.notEqual(newIdempotencyKey(), newIdempotencyKey());
  });
});

describe("callKanta", () => {
  test("gets a fresh session token before every call and sends it as a bearer token", async () => {
    const sessionToken = tokens();
    const { fetch, calls } = fakeFetch({ body: { member: true } }, { body: { member: true } });
    const client = { appUrl: "https://kanta.example.com/", sessionToken, fetch };

    assert.deepEqual(await callKanta(client, loyaltyRequest("10")), { member: true });
    await callKanta(client, joinRequest(false));

    assert.equal(sessionToken.issued, 2);
    assert.equal(calls[0].url, "https://kanta.example.com/api/checkout/loyalty?subtotal=10");
    assert.equal(calls[0].init.method, "GET");
    assert.equal(calls[0].init.headers.Authorization, "Bearer token-1");
    assert.equal(calls[0].init.body, undefined);
    assert.equal(calls[1].init.headers.Authorization, "Bearer token-2");
    assert.equal(calls[1].init.headers["Content-Type"], "application/json");
    assert.equal(calls[1].init.body, '{"marketing_consent":false}');
  });

  test("sends the request's own headers, but never lets them replace the token", async () => {
    const { fetch, calls } = fakeFetch({ body: {} });
    const request = { ...redeemRequest("r-5off", "key-9"), headers: { "Idempotency-Key": "key-9", Authorization: "Bearer forged" } };
    await callKanta({ appUrl: "https://kanta.example.com", sessionToken: tokens(), fetch }, request);
    assert.equal(calls[0].init.headers["Idempotency-Key"], "key-9");
    assert.equal(calls[0].init.headers.Authorization, "Bearer token-1");
  });

  test("a refusal, no answer, or a body that is not JSON is a KantaApiError", async () => {
    const client = (answer) => ({ appUrl: "https://kanta.example.com", sessionToken: tokens(), fetch: fakeFetch(answer).fetch });
    await assert.rejects(callKanta(client({ status: 409 }), redeemRequest("r", "k")), (error) => error instanceof KantaApiError && error.status === 409);
    await assert.rejects(callKanta(client({ throws: true }), loyaltyRequest(null)), (error) => error instanceof KantaApiError && error.status === 0);
    await assert.rejects(callKanta(client({ body: "<html>" }), loyaltyRequest(null)), KantaApiError);
  });
});

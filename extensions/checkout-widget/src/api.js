// @ts-check
/**
 * Kanta's checkout API as the widget calls it: one builder per endpoint, and one function that
 * sends a built request with a fresh session token. Plain module, tested without a DOM.
 *
 * The widget never sends a customer id: the backend takes the customer from the token's `sub`
 * claim, which Shopify sets only for a logged-in buyer (../shared/reference/shopify-platform.md §2.2).
 */

/**
 * @typedef {{ method: "GET" | "POST", path: string, body?: Record<string, unknown>, headers?: Record<string, string> }} KantaRequest
 * @typedef {{ get(): Promise<string> }} SessionToken
 * @typedef {(url: string, init: { method: string, headers: Record<string, string>, body?: string }) => Promise<{ ok: boolean, status: number, json(): Promise<unknown> }>} Fetch
 */

/** A request the backend refused or that did not reach it. */
export class KantaApiError extends Error {
  /** @param {string} message @param {number} status 0 when no answer came back */
  constructor(message, status) {
    super(message);
    this.name = "KantaApiError";
    this.status = status;
  }
}

/**
 * The cart subtotal as the decimal string the backend expects, or null when there is none.
 * Checkout gives `Money.amount` as a number.
 * @param {{ amount?: unknown } | null | undefined} money
 * @returns {string | null}
 */
export function subtotalParam(money) {
  const amount = money?.amount;
  if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) return null;
  const plain = String(amount);
  return plain.includes("e") ? amount.toFixed(2) : plain;
}

/**
 * @param {string | null} subtotal a decimal string from subtotalParam, or null outside checkout
 * @returns {KantaRequest}
 */
export function loyaltyRequest(subtotal) {
  const query = subtotal === null ? "" : `?subtotal=${encodeURIComponent(subtotal)}`;
  return { method: "GET", path: `/api/checkout/loyalty${query}` };
}

/**
 * @param {boolean} marketingConsent
 * @returns {KantaRequest}
 */
export function joinRequest(marketingConsent) {
  return { method: "POST", path: "/api/checkout/join", body: { marketing_consent: marketingConsent === true } };
}

/**
 * @param {string} rewardId
 * @param {string} idempotencyKey one per click, so a retried request cannot redeem twice
 * @returns {KantaRequest}
 */
export function redeemRequest(rewardId, idempotencyKey) {
  return {
    method: "POST",
    path: "/api/checkout/redeem",
    body: { reward_id: rewardId },
    headers: { "Idempotency-Key": idempotencyKey },
  };
}

/**
 * The full preferences body: the backend reads null as "clear", so fields the shopper did not
 * touch carry their current values, and an empty select value ("") clears.
 * @param {{ payment_method: string | null, delivery_option: string | null }} current
 * @param {boolean | null} currentConsent
 * @param {{ payment_method?: string | null, delivery_option?: string | null, marketing_consent?: boolean | null }} change
 */
export function preferencesBody(current, currentConsent, change) {
  /** @param {string | null | undefined} value @param {string | null} fallback */
  const choice = (value, fallback) => (value === undefined ? fallback : value === null || value.trim() === "" ? null : value);
  return {
    payment_method: choice(change.payment_method, current.payment_method),
    delivery_option: choice(change.delivery_option, current.delivery_option),
    marketing_consent: change.marketing_consent === undefined ? currentConsent : change.marketing_consent,
  };
}

/**
 * @param {ReturnType<typeof preferencesBody>} body
 * @returns {KantaRequest}
 */
export function preferencesRequest(body) {
  return { method: "POST", path: "/api/checkout/preferences", body };
}

/**
 * A v4 UUID for an Idempotency-Key: `crypto.randomUUID` where the worker has it, else built from
 * `crypto.getRandomValues`.
 * @param {{ randomUUID?: () => string, getRandomValues: (bytes: Uint8Array) => Uint8Array }} crypto
 */
export function newIdempotencyKey(crypto = globalThis.crypto) {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Send a built request to Kanta with a session token fetched just before it (Shopify caches the
 * token and renews it when it is near its 5-minute expiry, so asking every time is cheap), and
 * answer the parsed JSON body.
 * @param {{ appUrl: string, sessionToken: SessionToken, fetch: Fetch }} client
 * @param {KantaRequest} request
 * @returns {Promise<unknown>}
 */
export async function callKanta({ appUrl, sessionToken, fetch }, request) {
  const token = await sessionToken.get();
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json", ...request.headers, Authorization: `Bearer ${token}` };
  /** @type {{ method: string, headers: Record<string, string>, body?: string }} */
  const init = { method: request.method, headers };
  if (request.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(request.body);
  }
  let response;
  try {
    response = await fetch(`${appUrl.replace(/\/+$/, "")}${request.path}`, init);
  } catch {
    throw new KantaApiError(`${request.method} ${request.path}: no answer`, 0);
  }
  if (!response.ok) throw new KantaApiError(`${request.method} ${request.path}: HTTP ${response.status}`, response.status);
  try {
    return await response.json();
  } catch {
    throw new KantaApiError(`${request.method} ${request.path}: the answer is not JSON`, response.status);
  }
}

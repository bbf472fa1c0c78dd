import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { cartDeliveryOptionsTransformRun } from "../src/index.js";

function option(handle, title, amount, { code = title, type = "SHIPPING", currencyCode = "EUR" } = {}) {
  return { handle, title, code, cost: { amount, currencyCode }, deliveryMethodType: type };
}

const economy = option("h-economy", "Economy", "4.90");
const standard = option("h-standard", "Standard", "4.90");
const express = option("h-express", "Express", "12.00", { code: "DHL_EXPRESS" });

function inputFor({ preferences, groups, customer = true, rawValue } = {}) {
  let metafield = null;
  if (rawValue !== undefined) metafield = { value: rawValue };
  else if (preferences !== undefined) metafield = { value: JSON.stringify(preferences) };
  return {
    cart: {
      buyerIdentity: customer ? { customer: { id: "gid://shopify/Customer/7", metafield } } : null,
      deliveryGroups: groups ?? [{ id: "g1", deliveryOptions: [economy, standard, express] }],
    },
  };
}

const prefer = (delivery_option, extra = {}) => inputFor({ preferences: { payment_method: null, delivery_option }, ...extra });
const move = (deliveryOptionHandle) => ({ deliveryOptionMove: { deliveryOptionHandle, index: 0 } });
const rename = (deliveryOptionHandle, title) => ({ deliveryOptionRename: { deliveryOptionHandle, title } });
const NO_CHANGES = { operations: [] };

describe("cartDeliveryOptionsTransformRun", () => {
  test("moves the usual option first when it is the cheapest", () => {
    const groups = [{ id: "g1", deliveryOptions: [express, option("h-eco", "Economy", "3.50")] }];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Economy", { groups })), { operations: [move("h-eco")] });
  });

  test("moves it when it is tied for cheapest", () => {
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("standard")), { operations: [move("h-standard")] });
  });

  test("a pricier usual option is renamed, never moved", () => {
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Express")), {
      operations: [rename("h-express", "Express · your usual")],
    });
  });

  test("already first and cheapest: nothing to do", () => {
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Economy")), NO_CHANGES);
  });

  test("matches titles trimmed and case-insensitively, and falls back to the code", () => {
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("  STANDARD ")), { operations: [move("h-standard")] });
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("dhl_express")), {
      operations: [rename("h-express", "Express · your usual")],
    });
  });

  test("a title match wins over another option's code", () => {
    const trap = option("h-trap", "Next day", "20.00", { code: "Standard" });
    const groups = [{ id: "g1", deliveryOptions: [economy, trap, standard] }];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Standard", { groups })), { operations: [move("h-standard")] });
  });

  test("compares prices exactly: 10.10 and 10.1 are a tie", () => {
    const groups = [
      {
        id: "g1",
        deliveryOptions: [option("h-a", "Courier", "10.10"), option("h-b", "Post", "10.1")],
      },
    ];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Post", { groups })), { operations: [move("h-b")] });
  });

  test("compares prices exactly: 10.10 is dearer than 10.09", () => {
    const groups = [
      {
        id: "g1",
        deliveryOptions: [option("h-a", "Courier", "10.09"), option("h-b", "Post", "10.10")],
      },
    ];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Post", { groups })), {
      operations: [rename("h-b", "Post · your usual")],
    });
  });

  test("handles several delivery groups independently", () => {
    const groups = [
      { id: "cheap-here", deliveryOptions: [option("g1-exp", "Express", "15.00"), option("g1-std", "Standard", "5.00")] },
      { id: "dear-here", deliveryOptions: [option("g2-eco", "Economy", "2.00"), option("g2-std", "Standard", "6.00")] },
      { id: "first-here", deliveryOptions: [option("g3-std", "Standard", "0"), option("g3-exp", "Express", "9")] },
      { id: "absent-here", deliveryOptions: [option("g4-exp", "Express", "9")] },
    ];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Standard", { groups })), {
      operations: [move("g1-std"), rename("g2-std", "Standard · your usual")],
    });
  });

  test("never moves a shipping preference onto a pickup or local option of the same title", () => {
    const groups = [
      {
        id: "g1",
        deliveryOptions: [
          option("h-ship-exp", "Express", "9.00"),
          option("h-pickup", "Standard", "0.00", { type: "PICK_UP" }),
          option("h-local", "Standard", "0.00", { type: "LOCAL" }),
          option("h-point", "Standard", "0.00", { type: "PICKUP_POINT" }),
        ],
      },
    ];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Standard", { groups })), NO_CHANGES);
  });

  test("a usual local delivery is left alone: Shopify does not let delivery customizations modify it", () => {
    const groups = [
      {
        id: "g1",
        deliveryOptions: [
          option("h-std", "Standard", "4.90"),
          option("h-exp", "Express", "14.90"),
          option("h-local", "Local delivery", "6.00", { code: "LOCAL", type: "LOCAL" }),
        ],
      },
    ];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Local delivery", { groups })), NO_CHANGES);
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("local", { groups })), NO_CHANGES);
  });

  test("free pickup does not make the cheapest shipping option look dear", () => {
    const groups = [
      {
        id: "g1",
        deliveryOptions: [
          option("h-pickup", "Store pickup", "0.00", { type: "PICK_UP" }),
          option("h-exp", "Express", "9.00"),
          option("h-std", "Standard", "4.00"),
        ],
      },
    ];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Standard", { groups })), { operations: [move("h-std")] });
  });

  test("does nothing on a price it cannot compare", () => {
    const otherCurrency = [{ id: "g1", deliveryOptions: [option("h-a", "Courier", "3.00", { currencyCode: "USD" }), option("h-b", "Post", "4.00")] }];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Post", { groups: otherCurrency })), NO_CHANGES);
    const unreadable = [{ id: "g1", deliveryOptions: [option("h-a", "Courier", "3.00"), option("h-b", "Post", "n/a")] }];
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Post", { groups: unreadable })), NO_CHANGES);
  });

  test("a guest gets nothing", () => {
    assert.deepEqual(cartDeliveryOptionsTransformRun(inputFor({ customer: false })), NO_CHANGES);
  });

  test("no metafield, a malformed one, or no delivery preference gets nothing", () => {
    assert.deepEqual(cartDeliveryOptionsTransformRun(inputFor({})), NO_CHANGES);
    assert.deepEqual(cartDeliveryOptionsTransformRun(inputFor({ rawValue: "{not json" })), NO_CHANGES);
    assert.deepEqual(cartDeliveryOptionsTransformRun(inputFor({ rawValue: "[]" })), NO_CHANGES);
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer(null)), NO_CHANGES);
    assert.deepEqual(cartDeliveryOptionsTransformRun(inputFor({ preferences: { payment_method: "PayPal" } })), NO_CHANGES);
  });

  test("an unknown title gets nothing", () => {
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Overnight by drone")), NO_CHANGES);
  });

  test("empty or missing groups get nothing", () => {
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Standard", { groups: [] })), NO_CHANGES);
    assert.deepEqual(cartDeliveryOptionsTransformRun(prefer("Standard", { groups: [{ id: "g1", deliveryOptions: [] }, { id: "g2" }, null] })), NO_CHANGES);
    assert.deepEqual(cartDeliveryOptionsTransformRun({}), NO_CHANGES);
  });

  test("keeps the original title at the start of the rename", () => {
    const groups = [{ id: "g1", deliveryOptions: [economy, option("h-ups", "UPS® Ground (2–5 days)", "8.00")] }];
    const [operation] = cartDeliveryOptionsTransformRun(prefer("ups® ground (2–5 days)", { groups })).operations;
    assert.ok(operation.deliveryOptionRename.title.startsWith("UPS® Ground (2–5 days)"));
  });
});

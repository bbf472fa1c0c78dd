import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { cartPaymentMethodsTransformRun } from "../src/index.js";

const CHECKOUT_METHODS = [
  { id: "gid://shopify/PaymentCustomizationPaymentMethod/0", name: "Credit card" },
  { id: "gid://shopify/PaymentCustomizationPaymentMethod/1", name: "Shop Pay" },
  { id: "gid://shopify/PaymentCustomizationPaymentMethod/2", name: "PayPal" },
  { id: "gid://shopify/PaymentCustomizationPaymentMethod/3", name: "Apple Pay" },
  { id: "gid://shopify/PaymentCustomizationPaymentMethod/4", name: "Cash on Delivery (COD)" },
];

/** A Function input shaped like the one Shopify builds from our input query. */
function inputFor({ preferences, methods = CHECKOUT_METHODS, customer = true, rawValue } = {}) {
  let metafield = null;
  if (rawValue !== undefined) metafield = { value: rawValue };
  else if (preferences !== undefined) metafield = { value: JSON.stringify(preferences) };
  return {
    paymentMethods: methods,
    cart: {
      buyerIdentity: customer ? { customer: { id: "gid://shopify/Customer/7", metafield } } : null,
    },
  };
}

const NO_CHANGES = { operations: [] };
const moveFirst = (paymentMethodId) => ({
  operations: [{ paymentMethodMove: { paymentMethodId, index: 0 } }],
});

describe("cartPaymentMethodsTransformRun", () => {
  test("moves the remembered method to the top", () => {
    const output = cartPaymentMethodsTransformRun(inputFor({ preferences: { payment_method: "PayPal" } }));
    assert.deepEqual(output, moveFirst("gid://shopify/PaymentCustomizationPaymentMethod/2"));
  });

  test("matches names case-insensitively and ignores surrounding and doubled whitespace", () => {
    const output = cartPaymentMethodsTransformRun(
      inputFor({ preferences: { payment_method: "  cash ON  delivery (cod) " } }),
    );
    assert.deepEqual(output, moveFirst("gid://shopify/PaymentCustomizationPaymentMethod/4"));
  });

  for (const wallet of ["Shop Pay", "Apple Pay", "google pay"]) {
    test(`never moves a wallet: ${wallet}`, () => {
      const methods = [...CHECKOUT_METHODS, { id: "gid://shopify/PaymentCustomizationPaymentMethod/9", name: "Google Pay" }];
      const output = cartPaymentMethodsTransformRun(inputFor({ methods, preferences: { payment_method: wallet } }));
      assert.deepEqual(output, NO_CHANGES);
    });
  }

  test("a method already first is left alone", () => {
    const output = cartPaymentMethodsTransformRun(inputFor({ preferences: { payment_method: "credit card" } }));
    assert.deepEqual(output, NO_CHANGES);
  });

  test("a guest gets nothing", () => {
    assert.deepEqual(cartPaymentMethodsTransformRun(inputFor({ customer: false })), NO_CHANGES);
  });

  test("a customer without the metafield gets nothing", () => {
    assert.deepEqual(cartPaymentMethodsTransformRun(inputFor({})), NO_CHANGES);
  });

  for (const [label, rawValue] of [
    ["invalid JSON", "{payment_method: PayPal"],
    ["a JSON array", '["PayPal"]'],
    ["JSON null", "null"],
    ["a JSON string", '"PayPal"'],
    ["an empty string", ""],
  ]) {
    test(`a malformed metafield (${label}) gets nothing and does not throw`, () => {
      assert.deepEqual(cartPaymentMethodsTransformRun(inputFor({ rawValue })), NO_CHANGES);
    });
  }

  for (const [label, payment_method] of [
    ["null", null],
    ["missing", undefined],
    ["blank", "   "],
    ["not a string", 42],
  ]) {
    test(`no usable preference (${label}) gets nothing`, () => {
      const output = cartPaymentMethodsTransformRun(inputFor({ preferences: { payment_method, delivery_option: "Standard" } }));
      assert.deepEqual(output, NO_CHANGES);
    });
  }

  test("a name checkout does not offer gets nothing", () => {
    const output = cartPaymentMethodsTransformRun(inputFor({ preferences: { payment_method: "Klarna" } }));
    assert.deepEqual(output, NO_CHANGES);
  });

  test("an empty or missing method list gets nothing", () => {
    const preferences = { payment_method: "PayPal" };
    assert.deepEqual(cartPaymentMethodsTransformRun(inputFor({ preferences, methods: [] })), NO_CHANGES);
    assert.deepEqual(cartPaymentMethodsTransformRun(inputFor({ preferences, methods: null })), NO_CHANGES);
  });

  test("survives an input with nothing in it", () => {
    assert.deepEqual(cartPaymentMethodsTransformRun({}), NO_CHANGES);
    assert.deepEqual(cartPaymentMethodsTransformRun(null), NO_CHANGES);
  });

  test("moves only the first of two methods with the same name", () => {
    const methods = [
      { id: "a", name: "Bank transfer" },
      { id: "b", name: "PayPal" },
      { id: "c", name: "paypal" },
    ];
    const output = cartPaymentMethodsTransformRun(inputFor({ methods, preferences: { payment_method: "PayPal" } }));
    assert.deepEqual(output, moveFirst("b"));
  });
});

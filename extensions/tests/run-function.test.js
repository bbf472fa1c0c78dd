import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const CLI = fileURLToPath(new URL("../run-function.mjs", import.meta.url));

function runCli(args, stdin) {
  const result = spawnSync(process.execPath, [CLI, ...args], { input: stdin, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const customer = (preferences) => ({
  id: "gid://shopify/Customer/1",
  metafield: { value: JSON.stringify(preferences) },
});

test("payment: prints the Function's operations for the input on stdin", () => {
  const input = {
    paymentMethods: [
      { id: "pm-card", name: "Credit card" },
      { id: "pm-paypal", name: "PayPal" },
    ],
    cart: { buyerIdentity: { customer: customer({ payment_method: "PayPal", delivery_option: null }) } },
  };
  const { status, stdout } = runCli(["payment"], JSON.stringify(input));
  assert.equal(status, 0);
  assert.deepEqual(JSON.parse(stdout), {
    operations: [{ paymentMethodMove: { paymentMethodId: "pm-paypal", index: 0 } }],
  });
});

test("delivery: prints the Function's operations for the input on stdin", () => {
  const shipping = (handle, title, amount) => ({
    handle,
    title,
    code: title,
    cost: { amount, currencyCode: "EUR" },
    deliveryMethodType: "SHIPPING",
  });
  const input = {
    cart: {
      buyerIdentity: { customer: customer({ payment_method: null, delivery_option: "Express" }) },
      deliveryGroups: [{ id: "g1", deliveryOptions: [shipping("std", "Standard", "4.90"), shipping("exp", "Express", "12.00")] }],
    },
  };
  const { status, stdout } = runCli(["delivery"], JSON.stringify(input));
  assert.equal(status, 0);
  assert.deepEqual(JSON.parse(stdout), {
    operations: [{ deliveryOptionRename: { deliveryOptionHandle: "exp", title: "Express · your usual" } }],
  });
});

test("a guest's input gives no operations", () => {
  const { status, stdout } = runCli(["payment"], JSON.stringify({ paymentMethods: [], cart: { buyerIdentity: null } }));
  assert.equal(status, 0);
  assert.deepEqual(JSON.parse(stdout), { operations: [] });
});

test("refuses an unknown Function name with status 2", () => {
  for (const args of [[], ["discount"], ["payment", "delivery"], ["toString"]]) {
    const { status, stdout, stderr } = runCli(args, "{}");
    assert.equal(status, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.match(stderr, /usage/);
  }
});

test("refuses input that is not JSON with status 1", () => {
  const { status, stdout, stderr } = runCli(["delivery"], "not json");
  assert.equal(status, 1);
  assert.equal(stdout, "");
  assert.match(stderr, /not JSON/);
});

/**
 * The shopify.extension.toml files say what the CLI deploys; check them against the code so a
 * renamed file, export or target cannot drift unnoticed. (A few regexes, not a TOML parser: the
 * files are ours and flat.)
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (path) => readFileSync(`${ROOT}${path}`, "utf8");
const values = (toml, key) => [...toml.matchAll(new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, "gm"))].map((match) => match[1]);
const kebabToCamel = (name) => name.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());

for (const [dir, target, exportName] of [
  ["preferred-payment", "cart.payment-methods.transform.run", "cart-payment-methods-transform-run"],
  ["preferred-delivery", "cart.delivery-options.transform.run", "cart-delivery-options-transform-run"],
]) {
  test(`${dir}: a ${target} function at 2026-10 whose export and input query exist`, async () => {
    const toml = read(`${dir}/shopify.extension.toml`);
    assert.deepEqual(values(toml, "api_version"), ["2026-10"]);
    assert.deepEqual(values(toml, "type"), ["function"]);
    assert.deepEqual(values(toml, "target"), [target]);
    assert.deepEqual(values(toml, "export"), [exportName]);
    const [query] = values(toml, "input_query");
    assert.ok(existsSync(`${ROOT}${dir}/${query}`), query);
    assert.match(read(`${dir}/${query}`), /metafield\(namespace: "\$app:kanta", key: "preferences"\)/);
    const module = await import(`${ROOT}${dir}/src/index.js`);
    assert.equal(typeof module[kebabToCamel(exportName)], "function");
  });
}

test("checkout-widget: the four targets at 2026-10, each module present, network access on", () => {
  const toml = read("checkout-widget/shopify.extension.toml");
  assert.deepEqual(values(toml, "api_version"), ["2026-10"]);
  assert.deepEqual(values(toml, "type"), ["ui_extension"]);
  assert.deepEqual(values(toml, "target"), [
    "purchase.checkout.block.render",
    "purchase.thank-you.block.render",
    "customer-account.order-status.block.render",
    "customer-account.profile.block.render",
  ]);
  for (const module of values(toml, "module")) assert.ok(existsSync(`${ROOT}checkout-widget/${module}`), module);
  assert.match(toml, /^network_access = true$/m);
});

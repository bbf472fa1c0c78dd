/**
 * Smoke test of the thin Preact layer: render the views to HTML with a stand-in `shopify` global
 * and check the Polaris web components carry what the model decided. The components are bundled
 * with esbuild (they are JSX) together with preact-render-to-string, so both share one Preact.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { build } from "esbuild";

import { readLoyalty } from "../src/model.js";
import { memberLoyalty, nonMemberLoyalty } from "./fixtures.js";
import { translate } from "./translate.js";

const EXTENSION_DIR = fileURLToPath(new URL("..", import.meta.url));
let views;
let outDir;

before(async () => {
  const output = await build({
    stdin: {
      contents: [
        'export { renderToString } from "preact-render-to-string";',
        'export { h } from "preact";',
        'export { LoyaltyWidget, LoyaltyProfile } from "./src/components.jsx";',
      ].join("\n"),
      resolveDir: EXTENSION_DIR,
      loader: "js",
    },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    jsx: "automatic",
    jsxImportSource: "preact",
    logLevel: "silent",
  });
  outDir = mkdtempSync(join(tmpdir(), "kanta-widget-"));
  const file = join(outDir, "components.mjs");
  writeFileSync(file, output.outputFiles[0].contents);
  views = await import(pathToFileURL(file).href);
  globalThis.shopify = {
    i18n: {
      translate: (key, vars) => translate({ key, vars }),
      formatNumber: (value) => new Intl.NumberFormat("en").format(value),
      formatCurrency: (value, options) => new Intl.NumberFormat("en", { style: "currency", ...options }).format(value),
    },
  };
});

after(() => {
  delete globalThis.shopify;
  rmSync(outDir, { recursive: true, force: true });
});

const noop = () => {};
function render(component, state) {
  const full = { surface: "checkout", signedIn: true, canApplyCodes: true, failed: false, busy: null, notice: null, join: noop, redeem: noop, savePreferences: noop, ...state };
  return views.renderToString(views.h(views[component], { state: full }));
}

describe("checkout widget markup", () => {
  test("a member: balance, tier bar, rewards with the unaffordable one disabled", () => {
    const html = render("LoyaltyWidget", { loyalty: readLoyalty(memberLoyalty()) });
    assert.match(html, /You have 1,240 points/);
    assert.match(html, /80 points on their way/);
    assert.match(html, /This order earns you 45 points/);
    assert.match(html, /<s-progress value="1240" max="2000"/);
    assert.match(html, /760 points to Gold/);
    const buttons = html.match(/<s-button[^>]*>Redeem<\/s-button>/g);
    assert.equal(buttons.length, 3);
    assert.doesNotMatch(buttons[0], /disabled/);
    assert.doesNotMatch(buttons[1], /disabled/);
    assert.match(buttons[2], /disabled/);
    assert.match(html, /2,000 points · 760 more points needed/);
  });

  test("a redemption in flight disables every button and shows which is loading", () => {
    const html = render("LoyaltyWidget", { loyalty: readLoyalty(memberLoyalty()), busy: "r-5off" });
    const buttons = html.match(/<s-button[^>]*>/g);
    assert.ok(buttons.every((button) => /disabled/.test(button)));
    assert.match(buttons[0], /loading/);
  });

  test("a logged-in non-member: join button and consent checkbox", () => {
    const html = render("LoyaltyWidget", { loyalty: readLoyalty(nonMemberLoyalty()) });
    assert.match(html, /<s-checkbox label="Email me about my points and member offers"/);
    assert.match(html, /<s-button[^>]*variant="primary"[^>]*>Join now<\/s-button>/);
  });

  test("a logged-out guest: an invitation, and nothing while loading or after a failure", () => {
    assert.match(render("LoyaltyWidget", { signedIn: false, loyalty: null }), /<s-banner heading="Earn points on every order">/);
    assert.equal(render("LoyaltyWidget", { loyalty: null }), "");
    assert.equal(render("LoyaltyWidget", { loyalty: null, failed: true }), "");
  });

  test("a notice shows in a banner of its tone", () => {
    const notice = { tone: "success", message: { key: "redeem.applied", vars: { code: "K1" } } };
    assert.match(render("LoyaltyWidget", { loyalty: readLoyalty(memberLoyalty()), notice }), /<s-banner tone="success"><s-text>Code K1 applied to this order.<\/s-text>/);
  });
});

describe("profile page markup", () => {
  test("recent points, remembered choices with a clear option, consent switch", () => {
    const loyalty = readLoyalty(
      memberLoyalty({
        recent: [{ points: 120, description: "Order #1001" }],
        choices: { payment_methods: ["Credit card"], delivery_options: ["Express"] },
      }),
    );
    const html = render("LoyaltyProfile", { surface: "profile", loyalty });
    assert.match(html, /<s-section heading="Rewards">/);
    assert.match(html, /Order #1001.*\+120 points/);
    assert.match(html, /<s-select label="Payment method" value="PayPal">/);
    assert.match(html, /<s-option value(="")?>No preference<\/s-option><s-option value="PayPal">PayPal<\/s-option><s-option value="Credit card">Credit card<\/s-option>/);
    assert.match(html, /<s-select label="Delivery option" value="Standard">/);
    assert.match(html, /<s-switch label="Email me about my points and member offers" checked/);
    assert.match(html, /Learned from your orders/);
    assert.doesNotMatch(html, /with this order/);
  });

  test("a failure is said on the shopper's own page", () => {
    assert.match(render("LoyaltyProfile", { surface: "profile", loyalty: null, failed: true }), /can't be shown right now/);
  });
});

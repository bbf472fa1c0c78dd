import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  applyPreferences,
  applyRedemption,
  describeCodeApplied,
  describePreferences,
  describeRecent,
  describeReward,
  describeTier,
  describeWidget,
  readLoyalty,
} from "../src/model.js";
import { memberLoyalty, nonMemberLoyalty } from "./fixtures.js";
import { translate } from "./translate.js";

const loyaltyOf = (json) => {
  const loyalty = readLoyalty(json);
  assert.notEqual(loyalty, null);
  return loyalty;
};
const member = (overrides) => loyaltyOf(memberLoyalty(overrides));
const widget = (state) => describeWidget({ surface: "checkout", signedIn: true, canApplyCodes: true, ...state });

describe("readLoyalty", () => {
  test("refuses what is not a loyalty object", () => {
    for (const json of [null, undefined, "member", [], {}, { member: "yes" }]) assert.equal(readLoyalty(json), null);
  });

  test("keeps the contract's fields and defaults the optional ones", () => {
    const loyalty = member();
    assert.equal(loyalty.points, 1240);
    assert.deepEqual(loyalty.tier, { name: "Silver", multiplier: "1.25" });
    assert.deepEqual(loyalty.next_tier, { name: "Gold", points_needed: 760 });
    assert.equal(loyalty.rewards.length, 3);
    assert.deepEqual(loyalty.preferences, { payment_method: "PayPal", delivery_option: "Standard", source: "learned" });
    assert.deepEqual(loyalty.recent, []);
    assert.deepEqual(loyalty.choices, { payment_methods: [], delivery_options: [] });
  });

  test("drops malformed rewards and coerces odd values to safe ones", () => {
    const loyalty = member({
      points: -5,
      points_for_cart: "45",
      rewards: [{ id: "ok", title: "Ok", kind: "store_credit", points_cost: 10, redeemable: "true" }, { id: "no-cost", title: "x" }, null],
      preferences: { payment_method: "  ", delivery_option: 3, source: "guessed" },
      marketing_consent: "yes",
    });
    assert.equal(loyalty.points, 0);
    assert.equal(loyalty.points_for_cart, null);
    assert.deepEqual(loyalty.rewards, [{ id: "ok", title: "Ok", kind: "store_credit", points_cost: 10, redeemable: false }]);
    assert.deepEqual(loyalty.preferences, { payment_method: null, delivery_option: null, source: null });
    assert.equal(loyalty.marketing_consent, null);
  });

  test("reads the optional recent list, newest first as sent, at most five", () => {
    const recent = [
      { points: 120, description: "Order #1001", at: "2026-11-20" },
      { points: -500, description: "€5 off" },
      { points: "7", title: "ignored" },
      ...Array.from({ length: 6 }, (_, i) => ({ points: i, description: `Bonus ${i}` })),
    ];
    const loyalty = member({ recent });
    assert.equal(loyalty.recent.length, 5);
    assert.deepEqual(loyalty.recent[0], { points: 120, label: "Order #1001", date: "2026-11-20" });
    assert.deepEqual(loyalty.recent[1], { points: -500, label: "€5 off", date: null });
  });
});

describe("describeWidget", () => {
  test("a logged-out guest is invited to log in, per surface, without the backend", () => {
    for (const surface of ["checkout", "thank-you", "order-status"]) {
      const view = describeWidget({ surface, signedIn: false, loyalty: null });
      assert.equal(view.kind, "sign-in");
      assert.match(translate(view.body), /log in/i);
    }
  });

  test("nothing to show while loading; unavailable after a failure", () => {
    assert.deepEqual(widget({ loyalty: null }), { kind: "loading" });
    assert.deepEqual(widget({ loyalty: null, failed: true }), { kind: "unavailable" });
  });

  test("a logged-in non-member gets the one-tick join with a consent box, unticked by default", () => {
    const view = widget({ loyalty: loyaltyOf(nonMemberLoyalty()) });
    assert.equal(view.kind, "join");
    assert.equal(view.consentDefault, false);
    assert.equal(translate(view.button), "Join now");
    assert.match(translate(view.consentLabel), /email/i);
    assert.equal(widget({ loyalty: loyaltyOf(nonMemberLoyalty({ marketing_consent: true })) }).consentDefault, true);
  });

  test("a member sees balance, pending points, tier progress and what this cart earns", () => {
    const view = widget({ loyalty: member() });
    assert.equal(view.kind, "member");
    assert.equal(translate(view.balance), "You have 1,240 points");
    assert.equal(translate(view.pending), "80 points on their way");
    assert.equal(translate(view.cartEarns), "This order earns you 45 points");
    assert.equal(translate(view.tier.current), "Silver member · 1.25× points");
    assert.equal(translate(view.tier.note), "760 points to Gold");
    assert.deepEqual(view.tier.progress, { value: 1240, max: 2000 });
    assert.equal(view.tier.near, false);
  });

  test("after the order the same points read as earned with it; none when the cart earns none", () => {
    assert.equal(translate(describeWidget({ surface: "thank-you", signedIn: true, loyalty: member() }).cartEarns), "You earn 45 points with this order");
    assert.equal(widget({ loyalty: member({ points_for_cart: null }) }).cartEarns, null);
    assert.equal(widget({ loyalty: member({ points_for_cart: 0 }) }).cartEarns, null);
    assert.equal(widget({ loyalty: member({ pending_points: 0 }) }).pending, null);
    assert.equal(describeWidget({ surface: "profile", signedIn: true, loyalty: member() }).cartEarns, null);
  });

  test("singular forms", () => {
    const view = widget({ loyalty: member({ points: 1, pending_points: 1, points_for_cart: 1, next_tier: { name: "Gold", points_needed: 1 } }) });
    assert.equal(translate(view.balance), "You have 1 point");
    assert.equal(translate(view.pending), "1 point on its way");
    assert.equal(translate(view.cartEarns), "This order earns you 1 point");
    assert.equal(translate(view.tier.note), "This order takes you to Gold");
  });
});

describe("describeTier", () => {
  test("a member near the next tier is told so", () => {
    const tier = describeTier(member({ points: 1880, points_for_cart: 10, next_tier: { name: "Gold", points_needed: 120 } }));
    assert.equal(tier.near, true);
    assert.equal(translate(tier.note), "Only 120 points to Gold");
    assert.deepEqual(tier.progress, { value: 1880, max: 2000 });
  });

  test("a cart that reaches the next tier says this order takes you there", () => {
    const tier = describeTier(member({ points: 900, points_for_cart: 150, next_tier: { name: "Gold", points_needed: 100 } }));
    assert.equal(tier.near, true);
    assert.equal(translate(tier.note), "This order takes you to Gold");
  });

  test("at the top tier there is no next tier and no bar", () => {
    const tier = describeTier(member({ tier: { name: "Gold", multiplier: "2" }, next_tier: null }));
    assert.equal(tier.progress, null);
    assert.equal(translate(tier.note), "You're at our top tier, Gold");
  });

  test("no tier at all shows nothing", () => {
    assert.equal(describeTier(member({ tier: null })), null);
  });

  test("formats big numbers with the caller's formatter", () => {
    const format = { number: (n) => `<${n}>`, currency: () => "" };
    const tier = describeTier(member({ points: 0, next_tier: { name: "Gold", points_needed: 12000 } }), format);
    assert.equal(translate(tier.note), "<12000> points to Gold");
    assert.deepEqual(tier.progress, { value: 0, max: 12000 });
  });

  test("a zero-width bar is dropped rather than drawn", () => {
    const tier = describeTier(member({ points: 0, next_tier: { name: "Gold", points_needed: 0 } }));
    assert.equal(tier.progress, null);
  });
});

describe("describeReward", () => {
  const checkout = { surface: "checkout", canApplyCodes: true };

  test("redeemable only when the backend allows it and the balance covers it", () => {
    const loyalty = member();
    const [five, credit, twenty] = loyalty.rewards.map((reward) => describeReward(reward, loyalty, checkout));
    assert.equal(five.redeemable, true);
    assert.equal(five.reason, null);
    assert.equal(translate(five.cost), "500 points");
    assert.equal(credit.redeemable, true);
    assert.equal(twenty.redeemable, false);
    assert.equal(translate(twenty.reason), "760 more points needed");
  });

  test("the balance wins over a stale redeemable flag, and a refused reward says so", () => {
    const loyalty = member({ points: 400 });
    const [five] = loyalty.rewards.map((reward) => describeReward(reward, loyalty, checkout));
    assert.equal(five.redeemable, false);
    assert.equal(translate(five.reason), "100 more points needed");

    const rich = member({ points: 5000 });
    const twenty = describeReward(rich.rewards[2], rich, checkout);
    assert.equal(twenty.redeemable, false);
    assert.equal(translate(twenty.reason), "Not available right now");
  });

  test("in a checkout that cannot take codes only store credit stays redeemable", () => {
    const loyalty = member();
    const where = { surface: "checkout", canApplyCodes: false };
    const [five, credit] = loyalty.rewards.map((reward) => describeReward(reward, loyalty, where));
    assert.equal(five.redeemable, false);
    assert.equal(credit.redeemable, true);
    // After checkout a code is for the next order, so it needs no checkout instruction.
    assert.equal(describeReward(loyalty.rewards[0], loyalty, { surface: "thank-you", canApplyCodes: false }).redeemable, true);
  });

  test("a non-member can redeem nothing", () => {
    const loyalty = member({ member: false });
    assert.equal(describeReward(loyalty.rewards[0], loyalty, checkout).redeemable, false);
  });
});

describe("after the shopper acts", () => {
  const code = { kind: "discount_code", code: "KANTA-5-XYZ", amount: "5.00", currency: "EUR", points: 740 };

  test("a code redeemed in checkout is applied, and the balance follows the backend", () => {
    const { loyalty, outcome } = applyRedemption(member(), code, "checkout");
    assert.deepEqual(outcome, { type: "apply-code", code: "KANTA-5-XYZ" });
    assert.equal(loyalty.points, 740);
    const [five] = loyalty.rewards.map((reward) => describeReward(reward, loyalty, { surface: "checkout", canApplyCodes: true }));
    assert.equal(five.redeemable, true);
    assert.equal(describeReward(loyalty.rewards[1], loyalty, { surface: "checkout", canApplyCodes: true }).redeemable, false);
  });

  test("a code redeemed after checkout is shown for next time", () => {
    const { outcome } = applyRedemption(member(), code, "order-status");
    assert.equal(outcome.type, "notice");
    assert.equal(translate(outcome.message), "Your code is KANTA-5-XYZ. Use it at checkout.");
  });

  test("store credit needs no code", () => {
    const credit = { kind: "store_credit", code: null, amount: "10.00", currency: "EUR", points: 240 };
    const format = { number: String, currency: (amount, currency) => `${currency} ${amount}` };
    const { loyalty, outcome } = applyRedemption(member(), credit, "checkout", format);
    assert.equal(loyalty.points, 240);
    assert.equal(outcome.tone, "success");
    assert.equal(translate(outcome.message), "EUR 10.00 of store credit added to your account.");
  });

  test("an answer that is not a redemption changes nothing and says it failed", () => {
    const before = member();
    for (const result of [null, "ok", { kind: "discount_code", code: "" }, { kind: "mystery" }]) {
      const { loyalty, outcome } = applyRedemption(before, result, "checkout");
      assert.equal(loyalty.points, before.points);
      assert.equal(outcome.tone, "critical");
      assert.equal(translate(outcome.message), "That didn't work. Please try again.");
    }
  });

  test("tells the shopper whether checkout took the code", () => {
    assert.equal(translate(describeCodeApplied({ type: "success" }, "K1").message), "Code K1 applied to this order.");
    const refused = describeCodeApplied({ type: "error", message: "Accelerated checkout" }, "K1");
    assert.equal(refused.tone, "warning");
    assert.equal(translate(refused.message), "Your code is K1. Enter it in the discount field.");
    assert.equal(describeCodeApplied(null, "K1").tone, "warning");
  });
});

describe("profile page", () => {
  test("remembered choices offer the current value, known values once each, and a clear", () => {
    const loyalty = member({ choices: { payment_methods: ["PayPal", "Credit card"], delivery_options: [] } });
    const prefs = describePreferences(loyalty);
    assert.equal(prefs.payment.value, "PayPal");
    assert.deepEqual(prefs.payment.options.map((option) => option.value), ["", "PayPal", "Credit card"]);
    assert.equal(translate(prefs.payment.options[0].label), "No preference");
    assert.deepEqual(prefs.delivery.options.map((option) => option.value), ["", "Standard"]);
    assert.equal(translate(prefs.source), "Learned from your orders");
    assert.equal(prefs.marketingConsent, true);
  });

  test("with nothing remembered the selects sit on the clear value", () => {
    const prefs = describePreferences(member({ preferences: { payment_method: null, delivery_option: null, source: null } }));
    assert.equal(prefs.payment.value, "");
    assert.deepEqual(prefs.payment.options.map((option) => option.value), [""]);
    assert.equal(prefs.source, null);
  });

  test("a saved change is the shopper's own choice; clearing both leaves no source", () => {
    const chosen = applyPreferences(member(), { payment_method: "Credit card", delivery_option: "Standard", marketing_consent: false });
    assert.deepEqual(chosen.preferences, { payment_method: "Credit card", delivery_option: "Standard", source: "chosen" });
    assert.equal(chosen.marketing_consent, false);
    const cleared = applyPreferences(member(), { payment_method: null, delivery_option: null, marketing_consent: true });
    assert.equal(cleared.preferences.source, null);
  });

  test("recent points read as earned or spent", () => {
    const earned = describeRecent({ points: 120, label: "Order #1001", date: null });
    assert.equal(translate(earned.amount), "+120 points");
    assert.equal(earned.label, "Order #1001");
    assert.equal(translate(describeRecent({ points: -1, label: "", date: null }).amount), "−1 point");
  });
});

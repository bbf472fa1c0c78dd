// @ts-check
/**
 * What Kanta's loyalty widget shows and sends, decided without a DOM, Preact or the `shopify`
 * global, so that every decision is a plain function tested with `node --test`.
 *
 * Words are not built here: a view holds messages, `{key, vars}` pairs that the components pass to
 * `shopify.i18n.translate` (keys in locales/en.default.json). Numbers in messages are formatted by
 * the `Format` the caller hands in (the components pass `shopify.i18n`'s locale formatters).
 *
 * The loyalty object is the backend's answer to `GET /api/checkout/loyalty` (see README.md, "Backend
 * contract"). `readLoyalty` checks it once at the boundary; everything after trusts its shape.
 */

/**
 * @typedef {{ key: string, vars?: Record<string, string | number> }} Message
 * @typedef {{ number: (value: number) => string, currency: (amount: string, currencyCode: string) => string }} Format
 * @typedef {"checkout" | "thank-you" | "order-status" | "profile"} Surface
 *
 * @typedef {{ id: string, title: string, kind: string, points_cost: number, redeemable: boolean }} Reward
 * @typedef {{ payment_method: string | null, delivery_option: string | null, source: "learned" | "chosen" | null }} Preferences
 * @typedef {{ points: number, label: string, date: string | null }} RecentEntry
 * @typedef {{
 *   member: boolean,
 *   points: number,
 *   pending_points: number,
 *   tier: { name: string, multiplier: string } | null,
 *   next_tier: { name: string, points_needed: number } | null,
 *   points_for_cart: number | null,
 *   rewards: Reward[],
 *   preferences: Preferences,
 *   marketing_consent: boolean | null,
 *   recent: RecentEntry[],
 *   choices: { payment_methods: string[], delivery_options: string[] },
 * }} Loyalty
 */

/** A member this close to the next tier (share of the way still to go) is told they are close. */
export const NEAR_TIER_SHARE = 0.2;

/** How many recent point movements the profile page lists. */
export const RECENT_LIMIT = 5;

/** @type {Format} */
export const plainFormat = {
  number: (value) => new Intl.NumberFormat("en").format(value),
  currency: (amount, currencyCode) => `${amount} ${currencyCode}`,
};

// ---------------------------------------------------------------------------------------------
// Reading the backend's answer

/** @param {unknown} value */
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
/** @param {unknown} value */
const count = (value) => (Number.isInteger(value) && /** @type {number} */ (value) >= 0 ? /** @type {number} */ (value) : null);
/** @param {unknown} value */
const text = (value) => (typeof value === "string" && value.trim() !== "" ? value : null);
/** @param {unknown} value */
const strings = (value) => (Array.isArray(value) ? value.map(text).filter((item) => item !== null) : []);

/**
 * The loyalty object in a shape the rest of this module can trust, or null when the answer is not
 * a loyalty object at all. Optional parts (`recent`, `choices`) default to empty.
 * @param {unknown} json
 * @returns {Loyalty | null}
 */
export function readLoyalty(json) {
  if (!isObject(json) || typeof json.member !== "boolean") return null;
  const tier = isObject(json.tier) && text(json.tier.name) !== null
    ? { name: json.tier.name, multiplier: String(json.tier.multiplier ?? "1") }
    : null;
  const nextTier = isObject(json.next_tier) && text(json.next_tier.name) !== null && count(json.next_tier.points_needed) !== null
    ? { name: json.next_tier.name, points_needed: json.next_tier.points_needed }
    : null;
  const rewards = Array.isArray(json.rewards)
    ? json.rewards.filter(
        (reward) => isObject(reward) && text(reward.id) !== null && text(reward.title) !== null && count(reward.points_cost) !== null,
      ).map((reward) => ({
        id: reward.id,
        title: reward.title,
        kind: typeof reward.kind === "string" ? reward.kind : "",
        points_cost: reward.points_cost,
        redeemable: reward.redeemable === true,
      }))
    : [];
  const prefs = isObject(json.preferences) ? json.preferences : {};
  const source = prefs.source === "learned" || prefs.source === "chosen" ? prefs.source : null;
  const choices = isObject(json.choices) ? json.choices : {};
  return {
    member: json.member,
    points: count(json.points) ?? 0,
    pending_points: count(json.pending_points) ?? 0,
    tier,
    next_tier: nextTier,
    points_for_cart: count(json.points_for_cart),
    rewards,
    preferences: { payment_method: text(prefs.payment_method), delivery_option: text(prefs.delivery_option), source },
    marketing_consent: typeof json.marketing_consent === "boolean" ? json.marketing_consent : null,
    recent: readRecent(json.recent),
    choices: { payment_methods: strings(choices.payment_methods), delivery_options: strings(choices.delivery_options) },
  };
}

/**
 * The optional `recent` list, as the backend sends it: `{points: int, description: str, at: iso}`
 * (newest first). Entries without integer points are skipped.
 * @param {unknown} value
 * @returns {RecentEntry[]}
 */
function readRecent(value) {
  if (!Array.isArray(value)) return [];
  return value
    .filter((entry) => isObject(entry) && Number.isInteger(entry.points))
    .map((entry) => ({
      points: entry.points,
      label: text(entry.description) ?? "",
      date: text(entry.at),
    }))
    .slice(0, RECENT_LIMIT);
}

// ---------------------------------------------------------------------------------------------
// What to show

/**
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 * @returns {Message}
 */
const message = (key, vars) => (vars === undefined ? { key } : { key, vars });

/**
 * "1,240 points": a count for pluralization and its formatted form for display.
 * @param {string} key
 * @param {number} points
 * @param {Format} format
 * @param {Record<string, string | number>} [extra]
 */
const pointsMessage = (key, points, format, extra = {}) => message(key, { count: points, points: format.number(points), ...extra });

/**
 * Progress toward the next tier, or the top-tier note; null for a member without a tier.
 * The bar runs from 0 to the points the next tier needs in all (the backend does not send the
 * current tier's threshold).
 * @param {Loyalty} loyalty
 * @param {Format} format
 */
export function describeTier(loyalty, format = plainFormat) {
  if (loyalty.tier === null) return null;
  const current = message("tier.current", { tier: loyalty.tier.name, multiplier: loyalty.tier.multiplier });
  const next = loyalty.next_tier;
  if (next === null) return { current, progress: null, note: message("tier.top", { tier: loyalty.tier.name }), near: false };

  const needed = next.points_needed;
  const total = loyalty.points + needed;
  const progress = total > 0 ? { value: loyalty.points, max: total } : null;
  const cartUnlocks = loyalty.points_for_cart !== null && needed > 0 && loyalty.points_for_cart >= needed;
  const near = cartUnlocks || needed <= NEAR_TIER_SHARE * total;
  let note;
  if (cartUnlocks) note = message("tier.unlockedByCart", { tier: next.name });
  else if (near) note = pointsMessage("tier.near", needed, format, { tier: next.name });
  else note = pointsMessage("tier.toNext", needed, format, { tier: next.name });
  return { current, progress, note, near };
}

/**
 * Whether a reward can be redeemed here and now, and if not, why. The backend's `redeemable` flag
 * is necessary but not trusted alone: the balance must cover the cost, and in checkout a discount
 * code reward needs checkout to accept codes (`instructions.discounts.canUpdateDiscountCodes`).
 * @param {Reward} reward
 * @param {Loyalty} loyalty
 * @param {{ surface: Surface, canApplyCodes: boolean }} where
 * @param {Format} format
 */
export function describeReward(reward, loyalty, where, format = plainFormat) {
  const shortBy = reward.points_cost - loyalty.points;
  const codeBlocked = where.surface === "checkout" && reward.kind === "discount_code" && !where.canApplyCodes;
  const redeemable = loyalty.member && reward.redeemable && shortBy <= 0 && !codeBlocked;
  let reason = null;
  if (!redeemable) reason = shortBy > 0 ? pointsMessage("reward.needMore", shortBy, format) : message("reward.unavailable");
  return {
    id: reward.id,
    title: reward.title,
    cost: pointsMessage("reward.cost", reward.points_cost, format),
    redeemable,
    reason,
  };
}

/**
 * The whole widget for one surface.
 * - signed out: an invitation to log in or create an account, with no call to the backend;
 * - waiting for, or failing to get, the loyalty object: nothing worth showing yet;
 * - signed in, not a member: the one-tick join with a marketing consent checkbox;
 * - member: balance, pending points, tier progress, what this cart earns, rewards.
 * @param {{ surface: Surface, signedIn: boolean, loyalty: Loyalty | null, failed?: boolean, canApplyCodes?: boolean }} state
 * @param {Format} format
 */
export function describeWidget({ surface, signedIn, loyalty, failed = false, canApplyCodes = false }, format = plainFormat) {
  if (!signedIn) {
    return { kind: "sign-in", heading: message("signIn.heading"), body: message(`signIn.body.${surface}`) };
  }
  if (loyalty === null) return { kind: failed ? "unavailable" : "loading" };
  if (!loyalty.member) {
    return {
      kind: "join",
      heading: message("join.heading"),
      body: message("join.body"),
      consentLabel: message("join.consent"),
      consentDefault: loyalty.marketing_consent === true,
      button: message("join.button"),
    };
  }
  // The profile page has no cart; an order's points belong to the surfaces around that order.
  const earns = surface === "profile" ? null : loyalty.points_for_cart;
  return {
    kind: "member",
    balance: pointsMessage("points.balance", loyalty.points, format),
    pending: loyalty.pending_points > 0 ? pointsMessage("points.pending", loyalty.pending_points, format) : null,
    tier: describeTier(loyalty, format),
    cartEarns: earns !== null && earns > 0 ? pointsMessage(surface === "checkout" ? "points.cartEarns" : "points.orderEarns", earns, format) : null,
    rewards: loyalty.rewards.map((reward) => describeReward(reward, loyalty, { surface, canApplyCodes }, format)),
  };
}

// ---------------------------------------------------------------------------------------------
// After the shopper acts

/**
 * @typedef {"success" | "warning" | "critical"} Tone
 * @typedef {{ type: "apply-code", code: string } | { type: "notice", tone: Tone, message: Message }} RedeemOutcome
 */

/**
 * The loyalty object after a redemption, and what the widget does next: in checkout, apply the
 * code; elsewhere show it (it is for the next order); for store credit, confirm it.
 * @param {Loyalty} loyalty
 * @param {unknown} result the backend's answer to POST /api/checkout/redeem
 * @param {Surface} surface
 * @param {Format} format
 * @returns {{ loyalty: Loyalty, outcome: RedeemOutcome }}
 */
export function applyRedemption(loyalty, result, surface, format = plainFormat) {
  /** @type {RedeemOutcome} */
  const failed = { type: "notice", tone: "critical", message: message("redeem.failed") };
  if (!isObject(result)) return { loyalty, outcome: failed };
  const updated = { ...loyalty, points: count(result.points) ?? loyalty.points };
  const code = text(result.code);
  if (result.kind === "discount_code" && code !== null) {
    if (surface === "checkout") return { loyalty: updated, outcome: { type: "apply-code", code } };
    return { loyalty: updated, outcome: { type: "notice", tone: "success", message: message("redeem.showCode", { code }) } };
  }
  if (result.kind === "store_credit") {
    const amount = format.currency(String(result.amount ?? ""), String(result.currency ?? ""));
    return { loyalty: updated, outcome: { type: "notice", tone: "success", message: message("redeem.storeCredit", { amount }) } };
  }
  return { loyalty: updated, outcome: failed };
}

/**
 * What to tell the shopper once checkout answered `applyDiscountCodeChange`: the code is applied,
 * or (an accelerated checkout, a code checkout refused) here it is to type in.
 * @param {{ type?: string } | null | undefined} change the DiscountCodeChangeResult
 * @param {string} code
 * @returns {{ tone: Tone, message: Message }}
 */
export function describeCodeApplied(change, code) {
  return change?.type === "success"
    ? { tone: "success", message: message("redeem.applied", { code }) }
    : { tone: "warning", message: message("redeem.enterCode", { code }) };
}

/**
 * The profile page's remembered choices: for payment and delivery, a select with the known values
 * (the current one, plus any `choices` the backend sends) and an empty value that clears it.
 * @param {Loyalty} loyalty
 */
export function describePreferences(loyalty) {
  /** @param {string | null} current @param {string[]} known */
  const field = (current, known) => ({
    value: current ?? "",
    options: [
      { value: "", label: message("prefs.none") },
      ...[...new Set([...(current === null ? [] : [current]), ...known])].map((value) => ({ value, label: null })),
    ],
  });
  const { payment_method, delivery_option, source } = loyalty.preferences;
  return {
    payment: field(payment_method, loyalty.choices.payment_methods),
    delivery: field(delivery_option, loyalty.choices.delivery_options),
    source: source === null ? null : message(`prefs.source.${source}`),
    marketingConsent: loyalty.marketing_consent === true,
  };
}

/**
 * The loyalty object after the backend saved `body` (a preferencesBody): choices made by hand are
 * "chosen"; clearing both leaves no source.
 * @param {Loyalty} loyalty
 * @param {{ payment_method: string | null, delivery_option: string | null, marketing_consent: boolean | null }} body
 * @returns {Loyalty}
 */
export function applyPreferences(loyalty, body) {
  const anyChoice = body.payment_method !== null || body.delivery_option !== null;
  return {
    ...loyalty,
    preferences: { payment_method: body.payment_method, delivery_option: body.delivery_option, source: anyChoice ? "chosen" : null },
    marketing_consent: body.marketing_consent,
  };
}

/**
 * A recent point movement for the profile list: "+120 points" or "−40 points", with its label.
 * @param {RecentEntry} entry
 * @param {Format} format
 */
export function describeRecent(entry, format = plainFormat) {
  const key = entry.points < 0 ? "recent.spent" : "recent.earned";
  return { amount: pointsMessage(key, Math.abs(entry.points), format), label: entry.label, date: entry.date };
}

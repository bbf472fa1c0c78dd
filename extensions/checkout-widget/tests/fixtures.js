/** Loyalty objects shaped like the backend's GET /api/checkout/loyalty answer. */

export function memberLoyalty(overrides = {}) {
  return {
    member: true,
    points: 1240,
    pending_points: 80,
    tier: { name: "Silver", multiplier: "1.25" },
    next_tier: { name: "Gold", points_needed: 760 },
    points_for_cart: 45,
    rewards: [
      { id: "r-5off", title: "€5 off", kind: "discount_code", points_cost: 500, redeemable: true },
      { id: "r-credit", title: "€10 store credit", kind: "store_credit", points_cost: 1000, redeemable: true },
      { id: "r-20off", title: "€20 off", kind: "discount_code", points_cost: 2000, redeemable: false },
    ],
    preferences: { payment_method: "PayPal", delivery_option: "Standard", source: "learned" },
    marketing_consent: true,
    ...overrides,
  };
}

export function nonMemberLoyalty(overrides = {}) {
  return {
    member: false,
    points: 0,
    pending_points: 0,
    tier: null,
    next_tier: null,
    points_for_cart: 45,
    rewards: [],
    preferences: { payment_method: null, delivery_option: null, source: null },
    marketing_consent: null,
    ...overrides,
  };
}

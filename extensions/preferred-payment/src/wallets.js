// @ts-check
/**
 * The payment methods Kanta never moves, because Shopify will not move them.
 *
 * Shopify lets a Payment Customization Function only *hide* wallets: they cannot be renamed or
 * reordered, and a move on one is silently dropped while the Function still sees it in its input
 * (../shared/reference/platform-2026-12.md §0.1 and §1b, from the limitations of Shopify's
 * create-payments-function tutorial; "You can't rename payment methods that have logos as a name,
 * such as Shop Pay, Apple Pay and Google Pay. This includes all wallets."). Kanta skips them so it
 * never claims a move that cannot happen.
 *
 * Counted as wallets — the logo-named, device- or account-held methods Shopify shows as buttons:
 * - Shop Pay, and Shop Pay Installments (inside Shop Pay Shopify applies no payment customization
 *   at all except on the gift-card field);
 * - Apple Pay, Google Pay;
 * - Meta Pay, and its former name Facebook Pay;
 * - Amazon Pay.
 *
 * Not a wallet — PayPal (PayPal Express Checkout, shown as "PayPal"). It is an offsite gateway that
 * sits in the payment method list like any other and can be moved there; the reference names
 * PayPal among the methods a move works well for. Only its express button above the address form
 * is out of reach, and Kanta does not touch that placement.
 *
 * Also out of reach but NOT decided here: the Shopify Payments card ("Credit card") on non-Plus
 * shops in the US and Canada. A Function cannot see the shop's plan, so it still emits the move;
 * Shopify drops it silently and the backend must not count it as a win.
 */

const WALLET_NAMES = new Set([
  "shop pay",
  "shop pay installments",
  "apple pay",
  "google pay",
  "meta pay",
  "facebook pay",
  "amazon pay",
]);

/**
 * @param {string} normalizedName a name already passed through normalizeName()
 * @returns {boolean}
 */
export function isWallet(normalizedName) {
  return WALLET_NAMES.has(normalizedName);
}

// @ts-check
/**
 * Reading the shopper's remembered choices inside a Shopify Function.
 *
 * Kanta's backend writes one app-owned customer metafield, `$app:kanta` / `preferences`, a JSON
 * object such as `{"payment_method": "PayPal", "delivery_option": "Standard", "source": "learned"}`
 * (payment method name as checkout shows it, delivery option title). Both Functions read it through
 * `cart.buyerIdentity.customer.metafield`, so they only act for a logged-in or recognised buyer.
 *
 * A Function that throws fails the whole customization for that checkout, so everything here
 * answers `null` on bad input instead of throwing.
 */

/**
 * @typedef {{ payment_method?: unknown, delivery_option?: unknown, [key: string]: unknown }} Preferences
 */

/**
 * The parsed preferences of the buyer, or null for a guest, a missing metafield, or a value that
 * is not a JSON object.
 * @param {{ metafield?: { value?: unknown } | null } | null | undefined} customer
 * @returns {Preferences | null}
 */
export function readPreferences(customer) {
  const raw = customer?.metafield?.value;
  if (typeof raw !== "string") return null;
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  return parsed;
}

/**
 * A name as compared between a stored preference and what checkout offers: trimmed, inner runs
 * of whitespace collapsed, lower-cased. Anything that is not a non-empty string gives null, so a
 * null or numeric preference never matches.
 * @param {unknown} name
 * @returns {string | null}
 */
export function normalizeName(name) {
  if (typeof name !== "string") return null;
  const normalized = name.trim().replace(/\s+/g, " ").toLowerCase();
  return normalized === "" ? null : normalized;
}

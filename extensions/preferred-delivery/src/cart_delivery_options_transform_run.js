// @ts-check
/**
 * Delivery Customization Function: bring the shopper's usual delivery option forward — but only
 * as far as Shopify allows.
 *
 * Shopify's Function schema for delivery moves says: "If you reorder shipping delivery options,
 * then you are prohibited from automatically selecting higher-priced delivery alternatives by
 * default. The cheapest shipping delivery option must always be the first option selected."
 * (DeliveryOptionMoveOperation; ../shared/reference/platform-2026-12.md §0.2 and §1b). Moving an
 * option to index 0 preselects it in practice, so per delivery group:
 * - the usual option is the cheapest, or tied for cheapest, of the group's SHIPPING options:
 *   move it to index 0 (nothing if it is already there);
 * - it costs more: move nothing, rename it "<title> · your usual" so the shopper can pick it;
 * - no preference, a guest, an unknown title, or a price that cannot be read: nothing.
 *
 * Only SHIPPING options are considered, both for the match and for "cheapest": a remembered
 * shipping method never lands on a pickup, pickup-point or local-delivery option that happens to
 * share its title, and pickup prices do not make a shipping option look dear. A usual local
 * delivery (Kanta learns it, and the widget shows it) is left alone too: "You can't modify local
 * delivery and local pickup options with delivery customizations" (shopify.dev, Delivery
 * Customization Function API, limitations).
 */
import { normalizeName, readPreferences } from "../../shared/preferences.js";
import { compareDecimal } from "./decimal.js";

/**
 * @typedef {{ deliveryOptionMove: { deliveryOptionHandle: string, index: number } }} MoveOperation
 * @typedef {{ deliveryOptionRename: { deliveryOptionHandle: string, title: string } }} RenameOperation
 * @typedef {{ operations: Array<MoveOperation | RenameOperation> }} CartDeliveryOptionsTransformRunResult
 */

/** Appended, never prepended: Shopify keeps the carrier name at the start of a renamed title. */
export const USUAL_SUFFIX = " · your usual";

/**
 * @param {any} input the result of cart_delivery_options_transform_run.graphql
 * @returns {CartDeliveryOptionsTransformRunResult}
 */
export function cartDeliveryOptionsTransformRun(input) {
  const cart = input?.cart;
  const wanted = normalizeName(readPreferences(cart?.buyerIdentity?.customer)?.delivery_option);
  if (wanted === null) return { operations: [] };

  const groups = Array.isArray(cart?.deliveryGroups) ? cart.deliveryGroups : [];

  const operations = [];
  for (const group of groups) {
    const operation = operationForGroup(group, wanted);
    if (operation !== null) operations.push(operation);
  }
  return { operations };
}

/**
 * @param {any} group one cart.deliveryGroups entry
 * @param {string} wanted the normalized remembered title or code
 * @returns {MoveOperation | RenameOperation | null}
 */
function operationForGroup(group, wanted) {
  const options = Array.isArray(group?.deliveryOptions) ? group.deliveryOptions : [];
  const shipping = options.filter(
    (option) =>
      option?.deliveryMethodType === "SHIPPING" &&
      typeof option.handle === "string" &&
      option.handle !== "",
  );
  const usual =
    shipping.find((option) => normalizeName(option.title) === wanted) ??
    shipping.find((option) => normalizeName(option.code) === wanted);
  if (usual === undefined) return null;

  const price = priceRank(usual, shipping);
  if (price === "cheapest") {
    if (options.indexOf(usual) === 0) return null;
    return { deliveryOptionMove: { deliveryOptionHandle: usual.handle, index: 0 } };
  }
  if (price === "dearer" && typeof usual.title === "string" && usual.title.trim() !== "") {
    return { deliveryOptionRename: { deliveryOptionHandle: usual.handle, title: usual.title + USUAL_SUFFIX } };
  }
  return null;
}

/**
 * Whether `usual` is the cheapest (ties count) of the group's shipping options, or dearer than
 * one of them; "unknown" when a price is unreadable or in another currency, so nothing is moved
 * on a guess.
 * @param {any} usual
 * @param {any[]} shipping
 * @returns {"cheapest" | "dearer" | "unknown"}
 */
function priceRank(usual, shipping) {
  const currency = usual.cost?.currencyCode;
  let rank = /** @type {"cheapest" | "dearer" | "unknown"} */ ("cheapest");
  for (const other of shipping) {
    if (other === usual) continue;
    const order = other.cost?.currencyCode === currency ? compareDecimal(usual.cost?.amount, other.cost?.amount) : null;
    if (order === null) rank = "unknown";
    else if (order > 0) return "dearer";
  }
  if (rank === "cheapest" && compareDecimal(usual.cost?.amount, "0") === null) return "unknown";
  return rank;
}

// @ts-check
/**
 * Payment Customization Function: put the shopper's remembered payment method first.
 *
 * Shopify has no "select" operation; moving a method to index 0 preselects it in practice
 * (../shared/reference/platform-2026-12.md §1b, still undocumented). So the Function returns at
 * most one `paymentMethodMove` to index 0, and nothing at all when in doubt: a guest, no or a
 * malformed preference, a wallet, a name checkout does not offer, or a method already first.
 */
import { normalizeName, readPreferences } from "../../shared/preferences.js";
import { isWallet } from "./wallets.js";

/**
 * @typedef {{ operations: Array<{ paymentMethodMove: { paymentMethodId: string, index: number } }> }} CartPaymentMethodsTransformRunResult
 */

/** @type {CartPaymentMethodsTransformRunResult} */
const NO_CHANGES = { operations: [] };

/**
 * @param {any} input the result of cart_payment_methods_transform_run.graphql
 * @returns {CartPaymentMethodsTransformRunResult}
 */
export function cartPaymentMethodsTransformRun(input) {
  const preferences = readPreferences(input?.cart?.buyerIdentity?.customer);
  const wanted = normalizeName(preferences?.payment_method);
  if (wanted === null || isWallet(wanted)) return NO_CHANGES;

  const methods = Array.isArray(input?.paymentMethods) ? input.paymentMethods : [];
  const index = methods.findIndex((method) => normalizeName(method?.name) === wanted);
  // -1: checkout does not offer it (another market, a disabled gateway); 0: already first.
  if (index <= 0) return NO_CHANGES;

  const paymentMethodId = methods[index].id;
  if (typeof paymentMethodId !== "string" || paymentMethodId === "") return NO_CHANGES;
  return { operations: [{ paymentMethodMove: { paymentMethodId, index: 0 } }] };
}

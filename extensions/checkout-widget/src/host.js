// @ts-check
/**
 * The few places the widget touches Shopify's `shopify` global: words, number formats, who is
 * signed in, and the backend client. Read at call time, never at import.
 */
import { callKanta } from "./api.js";
import { APP_URL } from "./config.js";

/** @param {import("./model.js").Message} message */
export function translate(message) {
  return shopify.i18n.translate(message.key, message.vars);
}

/** @type {import("./model.js").Format} */
export const format = {
  number: (value) => shopify.i18n.formatNumber(value),
  currency(amount, currencyCode) {
    const value = Number(amount);
    if (!Number.isFinite(value) || currencyCode === "") return `${amount} ${currencyCode}`.trim();
    return shopify.i18n.formatCurrency(value, { currency: currencyCode });
  },
};

/**
 * The signed-in customer, or null: checkout and thank-you know the buyer through `buyerIdentity`
 * (level-1 protected customer data), customer accounts through `authenticatedAccount`.
 */
export function signedInCustomer() {
  return shopify.buyerIdentity?.customer?.value ?? shopify.authenticatedAccount?.customer?.value ?? null;
}

/** @param {import("./api.js").KantaRequest} request */
export function kanta(request) {
  return callKanta({ appUrl: APP_URL, sessionToken: shopify.sessionToken, fetch: (url, init) => fetch(url, init) }, request);
}

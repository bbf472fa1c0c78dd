// @ts-check
/**
 * The widget's state: the loyalty object from the backend, which action is in flight, and the
 * last notice. Each action is one backend call plus a model function; no decisions live here.
 */
import { useEffect, useState } from "preact/hooks";

import { joinRequest, loyaltyRequest, newIdempotencyKey, preferencesBody, preferencesRequest, redeemRequest, subtotalParam } from "./api.js";
import { format, kanta, signedInCustomer, translate } from "./host.js";
import { applyPreferences, applyRedemption, describeCodeApplied, readLoyalty } from "./model.js";

/** Checkout recalculates the subtotal as the cart changes; ask for points once it settles. */
const SUBTOTAL_SETTLE_MS = 400;

/**
 * @param {import("./model.js").Surface} surface
 */
export function useLoyalty(surface) {
  const signedIn = signedInCustomer() !== null;
  const subtotal = surface === "profile" ? null : subtotalParam(shopify.cost?.subtotalAmount?.value);
  const canApplyCodes = surface === "checkout" && shopify.instructions?.value?.discounts?.canUpdateDiscountCodes === true;

  const [loyalty, setLoyalty] = useState(/** @type {import("./model.js").Loyalty | null} */ (null));
  const [failed, setFailed] = useState(false);
  const [busy, setBusy] = useState(/** @type {string | null} */ (null));
  const [notice, setNotice] = useState(/** @type {{ tone: string, message: import("./model.js").Message } | null} */ (null));

  useEffect(() => {
    if (!signedIn) return undefined;
    let current = true;
    const timer = setTimeout(
      () => {
        kanta(loyaltyRequest(subtotal)).then(
          (json) => {
            if (!current) return;
            const next = readLoyalty(json);
            setLoyalty(next);
            setFailed(next === null);
          },
          () => current && setFailed(true),
        );
      },
      loyalty === null ? 0 : SUBTOTAL_SETTLE_MS,
    );
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [signedIn, subtotal]);

  /**
   * @param {string} key what is busy (an action name or a reward id)
   * @param {() => Promise<void>} work
   * @param {string} failureKey
   */
  async function act(key, work, failureKey) {
    setBusy(key);
    setNotice(null);
    try {
      await work();
    } catch {
      setNotice({ tone: "critical", message: { key: failureKey } });
    } finally {
      setBusy(null);
    }
  }

  /** @param {boolean} marketingConsent */
  const join = (marketingConsent) =>
    act("join", async () => {
      const next = readLoyalty(await kanta(joinRequest(marketingConsent)));
      if (next === null) throw new Error("join: not a loyalty object");
      setLoyalty(next);
    }, "join.failed");

  /** @param {string} rewardId */
  const redeem = (rewardId) =>
    act(rewardId, async () => {
      if (loyalty === null) return;
      const result = await kanta(redeemRequest(rewardId, newIdempotencyKey()));
      const { loyalty: next, outcome } = applyRedemption(loyalty, result, surface, format);
      setLoyalty(next);
      if (outcome.type === "apply-code") {
        // The points are spent by now: if checkout will not take the code, show it instead.
        const change = await shopify.applyDiscountCodeChange({ type: "addDiscountCode", code: outcome.code }).catch(() => null);
        setNotice(describeCodeApplied(change, outcome.code));
      } else {
        setNotice(outcome);
      }
    }, "redeem.failed");

  /** @param {Parameters<typeof preferencesBody>[2]} change */
  const savePreferences = (change) =>
    act("preferences", async () => {
      if (loyalty === null) return;
      const body = preferencesBody(loyalty.preferences, loyalty.marketing_consent, change);
      await kanta(preferencesRequest(body));
      setLoyalty(applyPreferences(loyalty, body));
      shopify.toast?.show(translate({ key: "prefs.saved" }));
    }, "prefs.failed");

  return { surface, signedIn, canApplyCodes, loyalty, failed, busy, notice, join, redeem, savePreferences };
}

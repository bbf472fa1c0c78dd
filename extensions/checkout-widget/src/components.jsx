/**
 * Thin Preact views over model.js: each takes a view object the model built and renders Polaris
 * web components (`s-*`). No decisions here beyond "which view kind is this".
 */
import { useState } from "preact/hooks";

import { format, translate as t } from "./host.js";
import { describePreferences, describeRecent, describeWidget } from "./model.js";

/** The block on checkout, thank-you and order-status pages. */
export function LoyaltyWidget({ state }) {
  const view = describeWidget(state, format);
  switch (view.kind) {
    case "sign-in":
      return (
        <s-banner heading={t(view.heading)}>
          <s-text>{t(view.body)}</s-text>
        </s-banner>
      );
    case "join":
      return <JoinOffer view={view} state={state} />;
    case "member":
      return <MemberSummary view={view} state={state} />;
    case "unavailable":
      // In checkout a broken widget stays out of the way; the shopper's own page says so.
      return state.surface === "profile" ? <s-text color="subdued">{t({ key: "unavailable" })}</s-text> : null;
    default:
      return null;
  }
}

function Notice({ notice }) {
  if (notice === null) return null;
  return (
    <s-banner tone={notice.tone}>
      <s-text>{t(notice.message)}</s-text>
    </s-banner>
  );
}

function JoinOffer({ view, state }) {
  const [consent, setConsent] = useState(view.consentDefault);
  return (
    <s-stack gap="base">
      <s-heading>{t(view.heading)}</s-heading>
      <s-text>{t(view.body)}</s-text>
      <s-checkbox label={t(view.consentLabel)} checked={consent} onChange={(event) => setConsent(event.target.checked)} />
      <s-button variant="primary" loading={state.busy === "join"} disabled={state.busy !== null} onClick={() => state.join(consent)}>
        {t(view.button)}
      </s-button>
      <Notice notice={state.notice} />
    </s-stack>
  );
}

function MemberSummary({ view, state }) {
  const { tier } = view;
  return (
    <s-stack gap="base">
      {state.surface !== "profile" && <s-heading>{t({ key: "heading" })}</s-heading>}
      <s-stack gap="small-200">
        <s-text type="strong">{t(view.balance)}</s-text>
        {view.pending && <s-text color="subdued">{t(view.pending)}</s-text>}
        {view.cartEarns && <s-text>{t(view.cartEarns)}</s-text>}
      </s-stack>
      {tier && (
        <s-stack gap="small-200">
          <s-text>{t(tier.current)}</s-text>
          {tier.progress && (
            <s-progress value={tier.progress.value} max={tier.progress.max} accessibilityLabel={t({ key: "tier.progressLabel" })} />
          )}
          <s-text type={tier.near ? "strong" : "generic"}>{t(tier.note)}</s-text>
        </s-stack>
      )}
      {view.rewards.length > 0 && <Rewards rewards={view.rewards} state={state} />}
      <Notice notice={state.notice} />
    </s-stack>
  );
}

function Rewards({ rewards, state }) {
  return (
    <s-stack gap="small-200">
      <s-text type="strong">{t({ key: "reward.heading" })}</s-text>
      {rewards.map((reward) => (
        <s-stack key={reward.id} direction="inline" gap="base" alignItems="center" justifyContent="space-between">
          <s-stack gap="none">
            <s-text>{reward.title}</s-text>
            <s-text color="subdued">
              {t(reward.cost)}
              {reward.reason && ` · ${t(reward.reason)}`}
            </s-text>
          </s-stack>
          <s-button
            variant="secondary"
            disabled={!reward.redeemable || state.busy !== null}
            loading={state.busy === reward.id}
            onClick={() => state.redeem(reward.id)}
          >
            {t({ key: "reward.redeem" })}
          </s-button>
        </s-stack>
      ))}
    </s-stack>
  );
}

/** The shopper's own loyalty page in customer accounts: the widget, recent points, choices. */
export function LoyaltyProfile({ state }) {
  const member = state.loyalty?.member === true;
  return (
    <s-section heading={t({ key: "heading" })}>
      <s-stack gap="large">
        <LoyaltyWidget state={state} />
        {member && state.loyalty.recent.length > 0 && <RecentPoints recent={state.loyalty.recent} />}
        {member && <RememberedChoices state={state} />}
      </s-stack>
    </s-section>
  );
}

function RecentPoints({ recent }) {
  return (
    <s-stack gap="small-200">
      <s-text type="strong">{t({ key: "recent.heading" })}</s-text>
      {recent.map((entry, index) => {
        const row = describeRecent(entry, format);
        return (
          <s-stack key={index} direction="inline" gap="base" justifyContent="space-between">
            <s-text>{row.label}</s-text>
            <s-text type="strong">{t(row.amount)}</s-text>
          </s-stack>
        );
      })}
    </s-stack>
  );
}

function RememberedChoices({ state }) {
  const prefs = describePreferences(state.loyalty);
  const saving = state.busy !== null;
  const choice = (labelKey, field, name) => (
    <s-select label={t({ key: labelKey })} value={field.value} disabled={saving} onChange={(event) => state.savePreferences({ [name]: event.target.value })}>
      {field.options.map((option) => (
        <s-option key={option.value} value={option.value}>
          {option.label === null ? option.value : t(option.label)}
        </s-option>
      ))}
    </s-select>
  );
  return (
    <s-stack gap="base">
      <s-text type="strong">{t({ key: "prefs.heading" })}</s-text>
      <s-text color="subdued">{t({ key: "prefs.intro" })}</s-text>
      {prefs.source && <s-text color="subdued">{t(prefs.source)}</s-text>}
      {choice("prefs.payment", prefs.payment, "payment_method")}
      {choice("prefs.delivery", prefs.delivery, "delivery_option")}
      <s-switch
        label={t({ key: "prefs.consent" })}
        checked={prefs.marketingConsent}
        disabled={saving}
        onChange={(event) => state.savePreferences({ marketing_consent: event.target.checked })}
      />
    </s-stack>
  );
}

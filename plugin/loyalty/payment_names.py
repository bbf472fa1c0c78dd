"""Payment gateways as orders record them → payment method names as checkout shows them.

An order says how it was paid by its gateway handle (``payment_gateway_names``), while checkout
and the Payment Customization Function list methods by *name*. This map is the one place that
joins the two. Sources:

- Shopify's REST Order resource: ``payment_gateway_names`` holds handles such as
  ``shopify_payments``, ``paypal``, ``gift_card``, ``shop_cash``, ``bogus`` (test orders), or a
  manual payment method's own name (``"Cash on Delivery (COD)"``, ``"Bank Deposit"``)
  (``../shared/reference/shopify-platform.md`` §4; the devstore's ``payloads`` module).
- Shop Cash, Shopify-funded, arrives as ``shop_cash`` and must teach nothing
  (``../shared/reference/platform-2026-12.md`` §1(d), help.shopify.com "Shop Cash: order data").
- The names checkout shows: "Credit card" for Shopify Payments cards and "PayPal" for PayPal
  Express; a manual method keeps the name the merchant gave it (the devstore's
  ``catalogue.PAYMENT_METHODS`` lists the demo store's).

Known gap: a Shop Pay order is ``shopify_payments`` too (only ``payment_details`` tells the
wallet apart, which the order record does not keep), so it teaches "Credit card". Wallets can
only be hidden, never moved, so no Function would act on a Shop Pay preference anyway.
"""

from __future__ import annotations

from typing import Final

# Handles that say nothing about the shopper's choice among the shop's methods.
TEACHES_NOTHING: Final = frozenset(
    {"shop_cash", "gift_card", "store_credit", "bogus", "manual", "exchange_credit"}
)

CHECKOUT_NAMES: Final[dict[str, str]] = {
    "shopify_payments": "Credit card",
    "paypal": "PayPal",
    "paypal_express": "PayPal",
    "amazon_payments": "Amazon Pay",
    "klarna": "Klarna",
}


def checkout_name_for_gateway(gateway: str | None) -> str | None:
    """The payment method name checkout shows for an order's gateway, or None when the order
    teaches nothing (no gateway, Shop Cash, gift cards, store credit, test gateway)."""
    if gateway is None:
        return None
    handle = gateway.strip()
    if not handle or handle.lower() in TEACHES_NOTHING:
        return None
    # Unknown handles are manual methods, whose gateway *is* the name checkout shows.
    return CHECKOUT_NAMES.get(handle.lower(), handle)

"""Turning the app's two Functions on for a shop: one payment and one delivery customization.

A deployed Function does nothing until the shop has a customization that uses it. Kanta creates
them once per shop (``paymentCustomizationCreate`` / ``deliveryCustomizationCreate`` with the
extensions' ``functionHandle``), after listing what exists so a second run creates nothing:
Shopify caps active customizations per shop (``../shared/reference/platform-2026-12.md`` §1(b)),
so duplicates would waste the merchant's slots.
"""

from __future__ import annotations

from typing import Final

from .gateway import ShopifyGateway

PAYMENT_HANDLE: Final = "kanta-preferred-payment"
DELIVERY_HANDLE: Final = "kanta-preferred-delivery"
PAYMENT_TITLE: Final = "Kanta: each shopper's usual payment method first"
DELIVERY_TITLE: Final = "Kanta: each shopper's usual delivery option first"

LIST = """
query KantaCustomizations {
  paymentCustomizations(first: 50) { nodes { id title enabled } }
  deliveryCustomizations(first: 50) { nodes { id title enabled } }
}
"""

PAYMENT_CREATE = """
mutation KantaPaymentCustomization($paymentCustomization: PaymentCustomizationInput!) {
  paymentCustomizationCreate(paymentCustomization: $paymentCustomization) {
    paymentCustomization { id }
    userErrors { field code message }
  }
}
"""

DELIVERY_CREATE = """
mutation KantaDeliveryCustomization($deliveryCustomization: DeliveryCustomizationInput!) {
  deliveryCustomizationCreate(deliveryCustomization: $deliveryCustomization) {
    deliveryCustomization { id }
    userErrors { field code message }
  }
}
"""


def ensure_checkout_functions(gateway: ShopifyGateway, shop: str, token: str) -> list[str]:
    """Create whichever of the two customizations the shop lacks; returns the kinds created."""
    data = gateway.graphql(shop, token, LIST)
    created: list[str] = []
    for kind, root, title, handle, query, arg in (
        ("payment", "paymentCustomizations", PAYMENT_TITLE, PAYMENT_HANDLE, PAYMENT_CREATE,
         "paymentCustomization"),
        ("delivery", "deliveryCustomizations", DELIVERY_TITLE, DELIVERY_HANDLE, DELIVERY_CREATE,
         "deliveryCustomization"),
    ):  # fmt: skip
        existing = (data.get(root) or {}).get("nodes") or []
        if any(node.get("title") == title for node in existing if isinstance(node, dict)):
            continue
        gateway.graphql(
            shop, token, query, {arg: {"functionHandle": handle, "title": title, "enabled": True}}
        )
        created.append(kind)
    return created

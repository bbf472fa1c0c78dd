"""What every simulated shop sells and who buys: payment methods and delivery options as the
checkout lists them, the catalogue and the demo customers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DEFAULT_SCOPES = (
    "read_customers,write_customers,read_orders,write_discounts,"
    "write_store_credit_account_transactions,"
    "read_payment_customizations,write_payment_customizations,"
    "read_delivery_customizations,write_delivery_customizations"
)


@dataclass(frozen=True)
class PaymentMethod:
    """A payment method as the checkout lists it; ``gateway`` is what the order records. A
    ``wallet`` (Shop Pay, Apple Pay, …) can be hidden by a Payment Customization, never moved
    or renamed (``../shared/reference/platform-2026-12.md`` §1b)."""

    name: str
    gateway: str
    wallet: bool = False


@dataclass(frozen=True)
class DeliveryOption:
    """A delivery option as the checkout lists it. ``method_type`` follows the Checkout API's
    ``DeliveryOption.type`` values; ``delivery_category`` is what the order's shipping line
    carries (our guess for pickup/local; Shopify's exact values are UNCONFIRMED)."""

    title: str
    code: str
    price: Decimal
    method_type: str
    delivery_category: str | None


PAYMENT_METHODS: tuple[PaymentMethod, ...] = (
    PaymentMethod("Credit card", "shopify_payments"),
    PaymentMethod("PayPal", "paypal"),
    PaymentMethod("Shop Pay", "shopify_payments", wallet=True),
    PaymentMethod("Cash on Delivery (COD)", "Cash on Delivery (COD)"),
    PaymentMethod("Bank Deposit", "Bank Deposit"),
)
DELIVERY_OPTIONS: tuple[DeliveryOption, ...] = (
    DeliveryOption("Standard", "STANDARD", Decimal("4.90"), "SHIPPING", None),
    DeliveryOption("Express", "EXPRESS", Decimal("14.90"), "SHIPPING", None),
    DeliveryOption("Free pickup in store", "PICKUP", Decimal("0.00"), "PICK_UP", "pick-up"),
    DeliveryOption("Local delivery", "LOCAL", Decimal("6.00"), "LOCAL", "local"),
)

# (title, [(variant title, price, sku)], gift card?)
CATALOGUE: tuple[tuple[str, list[tuple[str | None, str, str]], bool], ...] = (
    (
        "Sencha Green Tea",
        [("50 g", "12.50", "TEA-SEN-50"), ("100 g", "22.00", "TEA-SEN-100")],
        False,
    ),
    ("Ceramic Mug", [(None, "18.00", "MUG-CER")], False),
    ("Bamboo Whisk", [(None, "9.90", "WHISK-BMB")], False),
    ("Cast Iron Teapot", [(None, "64.00", "POT-CI")], False),
    ("Loose Leaf Sampler", [(None, "29.00", "TEA-SAMPLER")], False),
    ("Kanta Gift Card", [("$25", "25.00", "GIFT-25"), ("$50", "50.00", "GIFT-50")], True),
)
CUSTOMERS = (
    ("Ada", "Lovelace", "ada.lovelace@example.com", "+16135550101"),
    ("Grace", "Hopper", "grace.hopper@example.com", "+16135550102"),
    ("Alan", "Turing", "alan.turing@example.com", None),
    ("Katherine", "Johnson", "katherine.johnson@example.com", "+16135550104"),
    ("Margaret", "Hamilton", "margaret.hamilton@example.com", None),
    ("Linus", "Pauling", "linus.pauling@example.com", "+16135550106"),
)

# Custom collections of the catalogue above, by product title (Admin GraphQL ``collections``).
COLLECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Tea", ("Sencha Green Tea", "Loose Leaf Sampler")),
    ("Teaware", ("Ceramic Mug", "Bamboo Whisk", "Cast Iron Teapot")),
)

"""Builders for Shopify REST-shaped webhook payloads (orders, refunds, compliance, shop).

Shapes follow reference §4 (Order / Refund resources), §3.4 (compliance bodies) and §3.5 (Shop):

- ids are 64-bit integers above 2**53 (JavaScript loses precision on them, Python must not);
  every resource also carries ``admin_graphql_api_id``;
- money is a decimal *string* with a ``*_set`` twin (``shop_money`` and ``presentment_money``);
  the one documented exception is ``refund_line_items[].subtotal``/``total_tax``, JSON *numbers*;
- timestamps are ISO-8601 with an offset.

Everything is a pure function of its arguments: child ids (line items, shipping lines,
transactions, adjustments) are derived from the parent id with a hash, so the same call returns the
same payload. Amounts are computed as (shop, presentment) pairs so that totals add up exactly in
both currencies.

Deliberate Shopify-isms worth knowing when you consume these payloads:

- ``line_items[].total_discount`` is ``"0.00"``: Shopify leaves it unset for code/automatic
  discounts; the real per-line discount is the sum of ``discount_allocations``.
- The checkout's payment method *name* is not an order field. It is recoverable from
  ``payment_gateway_names`` (``"Cash on Delivery (COD)"``, ``"paypal"``...) and, for Shop Pay, from
  ``payment_details.credit_card_wallet == "shop_pay"``.
- Shipping is not taxed here (simplification); taxes sit on line items only.

The package's modules: ``amounts`` (ids, money strings, amounts in two currencies, the cart's
``LineSpec``), ``customers``, ``orders``, ``refunds`` (with cancellations) and ``shop`` (the
shop, uninstall and the compliance topics).
"""

from __future__ import annotations

from .amounts import ID_BASE, LineSpec, derive_id, money
from .customers import build_customer
from .orders import build_order
from .refunds import apply_refund, build_cancelled_order, build_refund
from .shop import (
    build_app_uninstalled,
    build_customers_data_request,
    build_customers_redact,
    build_shop,
    build_shop_redact,
)

__all__ = [
    "ID_BASE",
    "LineSpec",
    "apply_refund",
    "build_app_uninstalled",
    "build_cancelled_order",
    "build_customer",
    "build_customers_data_request",
    "build_customers_redact",
    "build_order",
    "build_refund",
    "build_shop",
    "build_shop_redact",
    "derive_id",
    "money",
]

"""What of a Shopify order earns points, read from its webhook payload.

Eligible amount = the order's line items after every discount (line and order level), leaving
out gift-card lines, shipping, tips, duties and tax; where the shop's prices include tax, the
lines' tax is taken out. Options add shipping or tax back. Every amount is read from the
shop-currency side (``shop_money``) so the shopper's presentment currency never changes points.

A tip is a line item carrying a ``tip`` object (no product, ``product_exists: false``); it never
earns, online or at POS. The per-line eligible amounts are computed once, at award time, and kept
with the order (``loyalty.settlement``); refunds and edits are then measured against those same
lines, so awards and reversals always follow the same rules.

Only fields that are present are read: units removed by an edit before payment are inferred from
``current_quantity`` only when the payload also lists its ``refunds`` (a subscription's
``include_fields`` may leave them out, and then a refunded unit would look removed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .money import (
    CENT,
    MAX_AMOUNT,
    ZERO,
    PayloadError,
    money_of,
    objects,
    opt_money,
    opt_str,
    shopify_id,
    timestamp,
)
from .refunds import RefundFacts, parse_refund

__all__ = [
    "CENT",
    "MAX_AMOUNT",
    "ZERO",
    "CustomerFacts",
    "EligibleAmounts",
    "LineFacts",
    "OrderFacts",
    "PayloadError",
    "RefundFacts",
    "ShippingFacts",
    "eligible_amounts",
    "parse_order",
    "parse_refund",
]

# The financial statuses of an order whose money has been collected in full.
PAID_STATUSES = frozenset({"paid", "partially_refunded"})


@dataclass(frozen=True)
class CustomerFacts:
    shopify_id: int
    email: str | None
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True)
class LineFacts:
    line_id: int
    quantity: int
    gift_card: bool
    net: Decimal  # after all discounts, shop money, as charged (tax included if the shop's is)
    tax: Decimal  # the line's tax, shop money
    tip: bool = False
    # Units still on the order when the payload was made; None when the payload leaves it out.
    current_quantity: int | None = None
    # Units the payload's own ``refunds`` list as refunded; None when it leaves them out.
    refunded_in_payload: int | None = None


@dataclass(frozen=True)
class ShippingFacts:
    title: str | None
    code: str | None
    source: str | None
    kind: str  # "shipping" | "pickup" | "local"
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class OrderFacts:
    order_id: int
    name: str | None
    customer: CustomerFacts | None
    is_test: bool
    source_name: str | None
    currency: str | None
    taxes_included: bool
    total_price: Decimal | None
    lines: tuple[LineFacts, ...]
    shipping: tuple[ShippingFacts, ...]
    payment_gateway: str | None
    financial_status: str | None = None
    processed_at: datetime | None = None

    @property
    def is_pos(self) -> bool:
        return self.source_name == "pos"

    @property
    def is_paid(self) -> bool:
        """Paid in full (Shopify's ``orders/paid`` fires only then); False when not said."""
        return self.financial_status in PAID_STATUSES


@dataclass(frozen=True)
class EligibleAmounts:
    """What each line (and shipping) counts for, computed once from the paying payload."""

    lines: dict[int, tuple[int, Decimal]]  # line_id -> (quantity, eligible amount)
    shipping: Decimal

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.lines.values()), ZERO) + self.shipping


def counts(line: LineFacts) -> bool:
    """Whether a line can earn at all: tips and gift cards never do."""
    return not line.gift_card and not line.tip


def eligible_amounts(
    order: OrderFacts, *, include_shipping: bool, include_tax: bool
) -> EligibleAmounts:
    lines: dict[int, tuple[int, Decimal]] = {}
    for line in order.lines:
        if counts(line):
            lines[line.line_id] = (line.quantity, line_eligible(line, order, include_tax))
    shipping = ZERO
    if include_shipping:
        for ship in order.shipping:
            shipping += _taxed(ship.net, ship.tax, order.taxes_included, include_tax)
    return EligibleAmounts(lines=lines, shipping=max(shipping, ZERO))


def line_eligible(line: LineFacts, order: OrderFacts, include_tax: bool) -> Decimal:
    return _taxed(line.net, line.tax, order.taxes_included, include_tax)


def line_charged(line: LineFacts, taxes_included: bool) -> Decimal:
    """The money a line charged the shopper (its tax added where prices exclude it)."""
    return max(line.net if taxes_included else line.net + line.tax, ZERO)


def shipping_charged(order: OrderFacts) -> Decimal:
    total = ZERO
    for ship in order.shipping:
        total += ship.net if order.taxes_included else ship.net + ship.tax
    return max(total, ZERO)


def _taxed(net: Decimal, tax: Decimal, taxes_included: bool, include_tax: bool) -> Decimal:
    if taxes_included and not include_tax:
        return max(net - tax, ZERO)
    if not taxes_included and include_tax:
        return max(net + tax, ZERO)
    return max(net, ZERO)


# --- parsing -------------------------------------------------------------------------------


def parse_order(payload: Mapping[str, Any]) -> OrderFacts:
    """Read an Order resource (orders/create, paid, updated, cancelled, fulfilled)."""
    if not isinstance(payload, Mapping):
        raise PayloadError("order payload must be a JSON object")
    order_id = shopify_id(payload.get("id"), "id")
    raw_lines = payload.get("line_items") or []
    raw_shipping = payload.get("shipping_lines") or []
    if not isinstance(raw_lines, list) or not isinstance(raw_shipping, list):
        raise PayloadError("line_items and shipping_lines must be lists")
    gateways = payload.get("payment_gateway_names") or []
    gateway = gateways[0] if isinstance(gateways, list) and gateways else payload.get("gateway")
    # Removed units are inferred only when the payload says which units were refunded.
    refunded = _refunded_units(payload) if isinstance(payload.get("refunds"), list) else None
    status = payload.get("financial_status")
    return OrderFacts(
        order_id=order_id,
        name=opt_str(payload.get("name"), 64),
        customer=_parse_customer(payload.get("customer")),
        is_test=payload.get("test") is True,
        source_name=opt_str(payload.get("source_name"), 64),
        currency=_currency(payload.get("currency")),
        taxes_included=payload.get("taxes_included") is True,
        total_price=opt_money(payload, "total_price"),
        lines=tuple(_parse_line(item, refunded) for item in raw_lines),
        shipping=tuple(_parse_shipping(item) for item in raw_shipping),
        payment_gateway=opt_str(gateway),
        financial_status=status if isinstance(status, str) and len(status) <= 32 else None,
        processed_at=timestamp(payload.get("processed_at")),
    )


def _parse_customer(raw: Any) -> CustomerFacts | None:
    if not isinstance(raw, Mapping) or raw.get("id") in (None, ""):
        return None
    return CustomerFacts(
        shopify_id=shopify_id(raw.get("id"), "customer.id"),
        email=opt_str(raw.get("email"), 320),
        first_name=opt_str(raw.get("first_name")),
        last_name=opt_str(raw.get("last_name")),
    )


def _refunded_units(payload: Mapping[str, Any]) -> dict[int, int]:
    """Units per line already refunded when the payload was made (its ``refunds``)."""
    units: dict[int, int] = {}
    for refund in payload.get("refunds") or []:
        items = refund.get("refund_line_items") if isinstance(refund, Mapping) else None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping):
                continue
            line_id, quantity = item.get("line_item_id"), item.get("quantity")
            if isinstance(line_id, int) and isinstance(quantity, int) and quantity > 0:
                units[line_id] = units.get(line_id, 0) + quantity
    return units


def _parse_line(raw: Any, refunded_units: Mapping[int, int] | None) -> LineFacts:
    if not isinstance(raw, Mapping):
        raise PayloadError("line_items entries must be objects")
    quantity = raw.get("quantity", 0)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity < 10**6:
        raise PayloadError("line_items.quantity must be a whole number from 0 to 999999")
    line_id = shopify_id(raw.get("id"), "line_items.id")
    gross = money_of(raw, "price") * quantity
    discounts = sum((money_of(a, "amount") for a in objects(raw, "discount_allocations")), ZERO)
    net = gross - discounts
    tax = sum((money_of(t, "price") for t in objects(raw, "tax_lines")), ZERO)
    current = raw.get("current_quantity")
    if not isinstance(current, int) or isinstance(current, bool) or not 0 <= current <= quantity:
        current = None
    # Units removed by an order edit (current_quantity below quantity, and not by a refund,
    # which Kanta reverses on its own) never earn.
    if current is not None and refunded_units is not None and current < quantity:
        removed = quantity - current - refunded_units.get(line_id, 0)
        if removed > 0:
            kept = quantity - removed
            net, tax = net * kept / quantity, tax * kept / quantity
            quantity = kept
    return LineFacts(
        line_id=line_id,
        quantity=quantity,
        gift_card=raw.get("gift_card") is True,
        net=net,
        tax=tax,
        tip=isinstance(raw.get("tip"), Mapping),
        current_quantity=current,
        refunded_in_payload=None if refunded_units is None else refunded_units.get(line_id, 0),
    )


def _parse_shipping(raw: Any) -> ShippingFacts:
    if not isinstance(raw, Mapping):
        raise PayloadError("shipping_lines entries must be objects")
    if raw.get("discounted_price_set") or raw.get("discounted_price") is not None:
        net = money_of(raw, "discounted_price")
    else:
        net = money_of(raw, "price") - sum(
            (money_of(a, "amount") for a in objects(raw, "discount_allocations")), ZERO
        )
    tax = sum((money_of(t, "price") for t in objects(raw, "tax_lines")), ZERO)
    category = str(raw.get("delivery_category") or "").lower()
    code = opt_str(raw.get("code"))
    kind = "shipping"
    if "pick" in category or (code or "").lower().startswith("pickup"):
        kind = "pickup"
    elif "local" in category:
        kind = "local"
    return ShippingFacts(
        title=opt_str(raw.get("title")),
        code=code,
        source=opt_str(raw.get("source")),
        kind=kind,
        net=net,
        tax=tax,
    )


def _currency(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 3 and value.isalpha():
        return value.upper()
    return None

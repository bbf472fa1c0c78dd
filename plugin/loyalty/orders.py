"""What of a Shopify order earns points, read from its webhook payload.

Eligible amount = the order's line items after every discount (line and order level), leaving
out gift-card lines, shipping, tips, duties and tax; where the shop's prices include tax, the
lines' tax is taken out. Options add shipping or tax back. Every amount is read from the
shop-currency side (``shop_money``) so the shopper's presentment currency never changes points.

The per-line eligible amounts are computed once, at award time, and kept with the order; a
refund's eligible amount is then the refunded share of those same lines, so awards and
reversals always follow the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

ZERO = Decimal("0")
CENT = Decimal("0.01")
# Far above any real order, and inside the Numeric(18, 2) columns that store amounts.
MAX_AMOUNT = Decimal(10) ** 12


class PayloadError(ValueError):
    """The payload is not an order/refund Kanta can read; the sender gets a 400."""


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

    @property
    def is_pos(self) -> bool:
        return self.source_name == "pos"


@dataclass(frozen=True)
class RefundFacts:
    refund_id: int
    order_id: int
    lines: tuple[tuple[int, int], ...]  # (line_item_id, quantity)
    shipping: Decimal  # shipping refunded, pre-tax, shop money

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": [[line_id, qty] for line_id, qty in self.lines],
            "shipping": str(self.shipping),
        }

    @classmethod
    def from_json(cls, refund_id: int, order_id: int, data: Mapping[str, Any]) -> RefundFacts:
        return cls(
            refund_id=refund_id,
            order_id=order_id,
            lines=tuple((int(a), int(b)) for a, b in data.get("lines", [])),
            shipping=Decimal(str(data.get("shipping", "0"))),
        )


@dataclass(frozen=True)
class EligibleAmounts:
    """The award-time snapshot: what each line (and shipping) counted for."""

    lines: dict[int, tuple[int, Decimal]]  # line_id -> (quantity, eligible amount)
    shipping: Decimal

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.lines.values()), ZERO) + self.shipping

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": {str(k): [q, str(a)] for k, (q, a) in self.lines.items()},
            "shipping": str(self.shipping),
            "refunded": {},  # cumulative refunded units per line (see with_refund)
            "refunded_shipping": "0",
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EligibleAmounts:
        return cls(
            lines={int(k): (int(q), Decimal(a)) for k, (q, a) in data["lines"].items()},
            shipping=Decimal(data["shipping"]),
        )

    @staticmethod
    def with_refund(snapshot: Mapping[str, Any], refund: RefundFacts) -> dict[str, Any]:
        """The award snapshot with this refund's quantities and shipping added to the
        cumulative refunded totals it carries (``refunded``, ``refunded_shipping``)."""
        refunded = {str(k): int(v) for k, v in snapshot.get("refunded", {}).items()}
        for line_id, quantity in refund.lines:
            refunded[str(line_id)] = refunded.get(str(line_id), 0) + quantity
        shipping = Decimal(snapshot.get("refunded_shipping", "0")) + refund.shipping
        return {**snapshot, "refunded": refunded, "refunded_shipping": str(shipping)}

    def refunded_total(self, snapshot: Mapping[str, Any]) -> Decimal:
        """The eligible amount refunded so far, from the cumulative quantities in ``snapshot``:
        each counted line's share (never more than the line), plus shipping if it counted."""
        amount = ZERO
        for key, quantity in snapshot.get("refunded", {}).items():
            line = self.lines.get(int(key))
            if line is None:
                continue  # gift cards and lines that never counted
            line_qty, line_amount = line
            if line_qty > 0:
                amount += line_amount * min(int(quantity), line_qty) / line_qty
        if self.shipping > 0:
            amount += min(Decimal(snapshot.get("refunded_shipping", "0")), self.shipping)
        return amount


def eligible_amounts(
    order: OrderFacts, *, include_shipping: bool, include_tax: bool
) -> EligibleAmounts:
    lines: dict[int, tuple[int, Decimal]] = {}
    for line in order.lines:
        if line.gift_card:
            continue
        lines[line.line_id] = (line.quantity, _taxed(line.net, line.tax, order, include_tax))
    shipping = ZERO
    if include_shipping:
        for ship in order.shipping:
            shipping += _taxed(ship.net, ship.tax, order, include_tax)
    return EligibleAmounts(lines=lines, shipping=max(shipping, ZERO))


def _taxed(net: Decimal, tax: Decimal, order: OrderFacts, include_tax: bool) -> Decimal:
    if order.taxes_included and not include_tax:
        return max(net - tax, ZERO)
    if not order.taxes_included and include_tax:
        return max(net + tax, ZERO)
    return max(net, ZERO)


# --- parsing -------------------------------------------------------------------------------


def parse_order(payload: Mapping[str, Any]) -> OrderFacts:
    """Read an Order resource (orders/create, paid, updated, cancelled, fulfilled)."""
    if not isinstance(payload, Mapping):
        raise PayloadError("order payload must be a JSON object")
    order_id = _shopify_id(payload.get("id"), "id")
    raw_lines = payload.get("line_items") or []
    raw_shipping = payload.get("shipping_lines") or []
    if not isinstance(raw_lines, list) or not isinstance(raw_shipping, list):
        raise PayloadError("line_items and shipping_lines must be lists")
    gateways = payload.get("payment_gateway_names") or []
    gateway = gateways[0] if isinstance(gateways, list) and gateways else payload.get("gateway")
    return OrderFacts(
        order_id=order_id,
        name=_opt_str(payload.get("name"), 64),
        customer=_parse_customer(payload.get("customer")),
        is_test=payload.get("test") is True,
        source_name=_opt_str(payload.get("source_name"), 64),
        currency=_currency(payload.get("currency")),
        taxes_included=payload.get("taxes_included") is True,
        total_price=_opt_money(payload, "total_price"),
        lines=tuple(_parse_line(item, _refunded_units(payload)) for item in raw_lines),
        shipping=tuple(_parse_shipping(item) for item in raw_shipping),
        payment_gateway=_opt_str(gateway),
    )


def parse_refund(payload: Mapping[str, Any]) -> RefundFacts:
    """Read a Refund resource (refunds/create)."""
    if not isinstance(payload, Mapping):
        raise PayloadError("refund payload must be a JSON object")
    refund_id = _shopify_id(payload.get("id"), "id")
    order_id = _shopify_id(payload.get("order_id"), "order_id")
    raw_lines = payload.get("refund_line_items") or []
    if not isinstance(raw_lines, list):
        raise PayloadError("refund_line_items must be a list")
    lines: list[tuple[int, int]] = []
    for item in raw_lines:
        if not isinstance(item, Mapping):
            raise PayloadError("refund_line_items entries must be objects")
        line_id = _shopify_id(item.get("line_item_id"), "refund_line_items.line_item_id")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity < 10**6:
            raise PayloadError("refund_line_items.quantity must be a whole number from 0 to 999999")
        lines.append((line_id, quantity))
    return RefundFacts(
        refund_id=refund_id,
        order_id=order_id,
        lines=tuple(lines),
        shipping=_refunded_shipping(payload),
    )


def _refunded_shipping(payload: Mapping[str, Any]) -> Decimal:
    # Newer API versions list refund_shipping_lines; older ones only an order adjustment of kind
    # shipping_refund (negative amounts). Read one or the other, never both.
    shipping_lines = payload.get("refund_shipping_lines")
    if isinstance(shipping_lines, list) and shipping_lines:
        total = ZERO
        for item in shipping_lines:
            if isinstance(item, Mapping):
                total += abs(
                    _money_of(item, "subtotal_amount")
                    if item.get("subtotal_amount_set") or item.get("subtotal_amount") is not None
                    else _money_of(item, "amount")
                )
        return total
    total = ZERO
    for adj in payload.get("order_adjustments") or []:
        if isinstance(adj, Mapping) and adj.get("kind") == "shipping_refund":
            total += abs(_money_of(adj, "amount"))
    return total


def _parse_customer(raw: Any) -> CustomerFacts | None:
    if not isinstance(raw, Mapping) or raw.get("id") in (None, ""):
        return None
    return CustomerFacts(
        shopify_id=_shopify_id(raw.get("id"), "customer.id"),
        email=_opt_str(raw.get("email"), 320),
        first_name=_opt_str(raw.get("first_name")),
        last_name=_opt_str(raw.get("last_name")),
    )


def _refunded_units(payload: Mapping[str, Any]) -> dict[int, int]:
    """Units per line already refunded when the payload was made (its ``refunds``)."""
    units: dict[int, int] = {}
    refunds = payload.get("refunds")
    if not isinstance(refunds, list):
        return units
    for refund in refunds:
        items = refund.get("refund_line_items") if isinstance(refund, Mapping) else None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping):
                continue
            line_id, quantity = item.get("line_item_id"), item.get("quantity")
            if isinstance(line_id, int) and isinstance(quantity, int) and quantity > 0:
                units[line_id] = units.get(line_id, 0) + quantity
    return units


def _parse_line(raw: Any, refunded_units: Mapping[int, int]) -> LineFacts:
    if not isinstance(raw, Mapping):
        raise PayloadError("line_items entries must be objects")
    quantity = raw.get("quantity", 0)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity < 10**6:
        raise PayloadError("line_items.quantity must be a whole number from 0 to 999999")
    line_id = _shopify_id(raw.get("id"), "line_items.id")
    gross = _money_of(raw, "price") * quantity
    discounts = sum((_money_of(a, "amount") for a in _objects(raw, "discount_allocations")), ZERO)
    net = gross - discounts
    tax = sum((_money_of(t, "price") for t in _objects(raw, "tax_lines")), ZERO)
    # Units removed by an order edit (current_quantity below quantity, and not by a refund,
    # which Kanta reverses on its own) never earn.
    current = raw.get("current_quantity")
    if isinstance(current, int) and not isinstance(current, bool) and 0 <= current < quantity:
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
    )


def _parse_shipping(raw: Any) -> ShippingFacts:
    if not isinstance(raw, Mapping):
        raise PayloadError("shipping_lines entries must be objects")
    if raw.get("discounted_price_set") or raw.get("discounted_price") is not None:
        net = _money_of(raw, "discounted_price")
    else:
        net = _money_of(raw, "price") - sum(
            (_money_of(a, "amount") for a in _objects(raw, "discount_allocations")), ZERO
        )
    tax = sum((_money_of(t, "price") for t in _objects(raw, "tax_lines")), ZERO)
    category = str(raw.get("delivery_category") or "").lower()
    code = _opt_str(raw.get("code"))
    kind = "shipping"
    if "pick" in category or (code or "").lower().startswith("pickup"):
        kind = "pickup"
    elif "local" in category:
        kind = "local"
    return ShippingFacts(
        title=_opt_str(raw.get("title")),
        code=code,
        source=_opt_str(raw.get("source")),
        kind=kind,
        net=net,
        tax=tax,
    )


def _objects(obj: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects, or a PayloadError: Shopify never sends anything else there."""
    value = obj.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise PayloadError(f"{field} must be a list of objects")
    return value


def _money_of(obj: Mapping[str, Any], field: str) -> Decimal:
    """Shop-currency amount of ``field``: ``field_set.shop_money.amount`` when present."""
    money_set = obj.get(f"{field}_set")
    if isinstance(money_set, Mapping):
        shop_money = money_set.get("shop_money")
        if isinstance(shop_money, Mapping) and "amount" in shop_money:
            return _decimal(shop_money["amount"], f"{field}_set.shop_money.amount")
    value = obj.get(field)
    if value is None:
        return ZERO
    return _decimal(value, field)


def _opt_money(obj: Mapping[str, Any], field: str) -> Decimal | None:
    if obj.get(field) is None and obj.get(f"{field}_set") is None:
        return None
    return _money_of(obj, field)


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool):
        raise PayloadError(f"{field} must be a decimal amount")
    try:
        # str() first: refund line subtotals arrive as JSON numbers (parsed to Decimal by our
        # JSON loader, but be safe with int/float too) and must not pick up binary noise.
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PayloadError(f"{field} must be a decimal amount") from None
    if not result.is_finite() or abs(result) >= MAX_AMOUNT:
        raise PayloadError(f"{field} must be a finite amount below {MAX_AMOUNT}")
    return result


def _shopify_id(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise PayloadError(f"{field} must be a Shopify id")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 0 < value < 2**63:
        raise PayloadError(f"{field} must be a Shopify id (a positive 64-bit integer)")
    return value


def _opt_str(value: Any, limit: int = 255) -> str | None:
    if value is None:
        return None
    return str(value)[:limit]


def _currency(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 3 and value.isalpha():
        return value.upper()
    return None

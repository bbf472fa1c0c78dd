"""What a Shopify refund returns, read from its ``refunds/create`` payload.

A refund returns money in three ways, and each is kept apart because each reverses differently:

- **lines** it names (``refund_line_items``): the units and the money (subtotal, tax) of each;
- **shipping** (``refund_shipping_lines``, or on older versions an order adjustment of kind
  ``shipping_refund``): never reverses points unless the shop counts shipping;
- **money without lines** (a refund by amount: "never arrived", a goodwill gesture): the
  ``refund_discrepancy`` order adjustments when the payload has them; otherwise, for a refund that
  names no line, the successful refund transactions less the shipping and duties it returns.

Only fields that are present are read: a trimmed payload (``include_fields``) never makes an
absent field count as zero money the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .money import ZERO, PayloadError, money_of, shopify_id, timestamp


@dataclass(frozen=True)
class RefundLine:
    line_id: int
    quantity: int
    subtotal: Decimal  # after discounts, shop money (tax included if the shop's prices are)
    tax: Decimal


@dataclass(frozen=True)
class RefundFacts:
    refund_id: int
    order_id: int
    lines: tuple[tuple[int, int], ...]  # (line_item_id, quantity)
    shipping: Decimal  # shipping refunded, pre-tax, shop money
    shipping_tax: Decimal = ZERO
    # Money returned without naming a line (a refund by amount), shop money.
    amount: Decimal = ZERO
    line_money: tuple[RefundLine, ...] = field(default=())
    processed_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": [[line_id, qty] for line_id, qty in self.lines],
            "shipping": str(self.shipping),
            "shipping_tax": str(self.shipping_tax),
            "amount": str(self.amount),
            "line_money": [
                [m.line_id, m.quantity, str(m.subtotal), str(m.tax)] for m in self.line_money
            ],
            "processed_at": self.processed_at.isoformat() if self.processed_at else None,
        }

    @classmethod
    def from_json(cls, refund_id: int, order_id: int, data: Mapping[str, Any]) -> RefundFacts:
        return cls(
            refund_id=refund_id,
            order_id=order_id,
            lines=tuple((int(a), int(b)) for a, b in data.get("lines", [])),
            shipping=Decimal(str(data.get("shipping", "0"))),
            shipping_tax=Decimal(str(data.get("shipping_tax", "0"))),
            amount=Decimal(str(data.get("amount", "0"))),
            line_money=tuple(
                RefundLine(int(i), int(q), Decimal(s), Decimal(t))
                for i, q, s, t in data.get("line_money", [])
            ),
            processed_at=datetime.fromisoformat(data["processed_at"])
            if data.get("processed_at")
            else None,
        )


def parse_refund(payload: Mapping[str, Any]) -> RefundFacts:
    """Read a Refund resource (refunds/create)."""
    if not isinstance(payload, Mapping):
        raise PayloadError("refund payload must be a JSON object")
    refund_id = shopify_id(payload.get("id"), "id")
    order_id = shopify_id(payload.get("order_id"), "order_id")
    raw_lines = payload.get("refund_line_items") or []
    if not isinstance(raw_lines, list):
        raise PayloadError("refund_line_items must be a list")
    lines: list[tuple[int, int]] = []
    line_money: list[RefundLine] = []
    for item in raw_lines:
        if not isinstance(item, Mapping):
            raise PayloadError("refund_line_items entries must be objects")
        line_id = shopify_id(item.get("line_item_id"), "refund_line_items.line_item_id")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity < 10**6:
            raise PayloadError("refund_line_items.quantity must be a whole number from 0 to 999999")
        lines.append((line_id, quantity))
        line_money.append(
            RefundLine(line_id, quantity, money_of(item, "subtotal"), money_of(item, "total_tax"))
        )
    shipping, shipping_tax = _refunded_shipping(payload)
    return RefundFacts(
        refund_id=refund_id,
        order_id=order_id,
        lines=tuple(lines),
        shipping=shipping,
        shipping_tax=shipping_tax,
        amount=_refunded_without_lines(payload, bool(lines), shipping + shipping_tax),
        line_money=tuple(line_money),
        processed_at=timestamp(payload.get("processed_at") or payload.get("created_at")),
    )


def _refunded_shipping(payload: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    # Newer API versions list refund_shipping_lines; older ones only an order adjustment of kind
    # shipping_refund (negative amounts). Read one or the other, never both.
    shipping_lines = payload.get("refund_shipping_lines")
    if isinstance(shipping_lines, list) and shipping_lines:
        total = tax = ZERO
        for item in shipping_lines:
            if isinstance(item, Mapping):
                total += abs(
                    money_of(item, "subtotal_amount")
                    if item.get("subtotal_amount_set") or item.get("subtotal_amount") is not None
                    else money_of(item, "amount")
                )
                tax += abs(money_of(item, "tax_amount"))
        return total, tax
    total = tax = ZERO
    for adj in _adjustments(payload):
        if adj.get("kind") == "shipping_refund":
            total += abs(money_of(adj, "amount"))
            tax += abs(money_of(adj, "tax_amount"))
    return total, tax


def _adjustments(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = payload.get("order_adjustments")
    return [a for a in raw if isinstance(a, Mapping)] if isinstance(raw, list) else []


def _refunded_without_lines(
    payload: Mapping[str, Any], names_lines: bool, shipping_money: Decimal
) -> Decimal:
    discrepancies = [a for a in _adjustments(payload) if a.get("kind") == "refund_discrepancy"]
    if discrepancies:
        # Negative amounts are money returned beyond the lines; a positive one (less returned
        # than the lines are worth, e.g. a restocking fee) gives no points back.
        returned = sum((-money_of(a, "amount") for a in discrepancies), ZERO)
        return max(returned, ZERO)
    transactions = payload.get("transactions")
    if names_lines or not isinstance(transactions, list):
        return ZERO  # the lines explain the money, or the payload does not say: nothing inferred
    money = ZERO
    for txn in transactions:
        if (
            isinstance(txn, Mapping)
            and txn.get("kind") == "refund"
            and txn.get("status") == "success"
        ):
            money += abs(money_of(txn, "amount"))
    duties = ZERO
    duties_set = payload.get("total_duties_set")
    if isinstance(duties_set, Mapping):
        duties = abs(money_of(payload, "total_duties"))
    return max(money - shipping_money - duties, ZERO)

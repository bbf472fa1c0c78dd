"""Ledger entries in the merchant's words: "Order #1002", "Refund of 2 × Teapot on Order #1002".

Only what the ledger stored is used: each entry's kind and details (``plugin.ledger.awards``
writes the order name, rate and tier of an award; a refund entry's ``source_ref`` is the refund
whose quantities the order's refund event kept; the lines' titles are the order's lines kept
for segments, ``order_lines``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import LedgerEntry, OrderEvent, OrderLine


def order_label(entry: LedgerEntry) -> str:
    details = entry.details or {}
    name = details.get("order_name")
    if isinstance(name, str) and name:
        return f"Order {name}"
    if entry.shopify_order_id:
        return f"Order {entry.shopify_order_id}"
    return "an order"


def refunded_units(
    session: Session, shop_id: int, entries: Iterable[LedgerEntry]
) -> dict[str, str]:
    """What each refund behind ``entries`` gave back, in words (refund id → "2 × Teapot, 1 × Mug",
    or "3 items" when a line's title is not known), in two queries."""
    refs = {
        int(e.source_ref)
        for e in entries
        if e.kind == "refund_reversal"
        and e.source_ref
        and e.source_ref.isascii()
        and e.source_ref.isdigit()
    }
    if not refs:
        return {}
    rows = session.execute(
        select(OrderEvent.source_id, OrderEvent.shopify_order_id, OrderEvent.facts).where(
            OrderEvent.shop_id == shop_id,
            OrderEvent.kind == "refund",
            OrderEvent.source_id.in_(refs),
        )
    ).all()
    refunds: dict[str, tuple[int, list[tuple[int, int]]]] = {}
    for source_id, order_id, facts in rows:
        lines = [
            (int(line_id), q)
            for line_id, q in (facts or {}).get("lines", [])
            if isinstance(q, int) and q > 0
        ]
        refunds[str(source_id)] = (order_id, lines)
    titles = {
        (order_id, line_id): title
        for order_id, line_id, title in session.execute(
            select(OrderLine.shopify_order_id, OrderLine.line_id, OrderLine.title).where(
                OrderLine.shop_id == shop_id,
                OrderLine.shopify_order_id.in_({o for o, _ in refunds.values()}),
            )
        )
    }
    words: dict[str, str] = {}
    for ref, (order_id, lines) in refunds.items():
        if not lines:
            continue
        named = [(titles.get((order_id, line_id)), q) for line_id, q in lines]
        if all(title for title, _ in named):
            words[ref] = ", ".join(f"{q} × {title}" for title, q in named)
        else:
            count = sum(q for _, q in lines)
            words[ref] = f"{count} item{'' if count == 1 else 's'}"
    return words


def describe(entry: LedgerEntry, units: Mapping[str, str]) -> str:
    """One line a shop owner reads without knowing Kanta's internals."""
    details: dict[str, Any] = entry.details or {}
    kind = entry.kind
    if kind == "order_award":
        return order_label(entry)
    if kind == "refund_reversal":
        what = units.get(entry.source_ref or "")
        if what:
            return f"Refund of {what} on {order_label(entry)}"
        return f"Refund on {order_label(entry)}"
    if kind == "cancellation_reversal":
        return f"{order_label(entry)} cancelled"
    if kind == "pending_release":
        return f"Points from {order_label(entry)} became spendable"
    if kind == "expiry":
        days = details.get("expiry_days")
        return f"Expired after {days} days without activity" if days else "Points expired"
    if kind == "welcome_bonus":
        return "Welcome bonus for joining"
    if kind == "adjustment":
        return f"Adjusted by staff: {entry.reason}" if entry.reason else "Adjusted by staff"
    if kind == "redemption":
        title = details.get("reward_title") or details.get("title")
        return f"Redeemed {title}" if title else "Redeemed a reward"
    if kind == "import":
        return "Balance imported from another loyalty app"
    return kind.replace("_", " ").capitalize()


def explain(entry: LedgerEntry) -> str | None:
    """The second line: how the points were computed, when the ledger says so."""
    details: dict[str, Any] = entry.details or {}
    if entry.kind == "order_award" and details.get("eligible_amount"):
        parts = [
            f"on {details['eligible_amount']} {details.get('currency', '')}".strip() + " spent"
        ]
        multiplier = details.get("multiplier")
        if multiplier and multiplier not in ("1", "1.0"):
            parts.append(f"×{multiplier} tier bonus")
        if entry.pending_points:
            parts.append(f"pending for {details.get('pending_days')} days")
        return " · ".join(parts)
    if entry.kind == "refund_reversal" and details.get("refunded_eligible"):
        return f"{details['refunded_eligible']} refunded"
    if entry.kind == "adjustment" and entry.actor:
        who = entry.actor.removeprefix("staff:")
        return "by staff" if who == "staff" else f"by staff user {who}"
    return None

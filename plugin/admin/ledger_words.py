"""Ledger entries in the merchant's words: "Order #1002", "Refund of 2 items on Order #1002".

Only what the ledger stored is used: each entry's kind and details (``plugin.ledger.awards``
writes the order name, rate and tier of an award; a refund entry's ``source_ref`` is the refund
whose quantities the order's refund event kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import LedgerEntry, OrderEvent


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
) -> dict[str, int]:
    """Units refunded by each refund behind ``entries`` (refund id → units), in one query."""
    refs = {
        int(e.source_ref)
        for e in entries
        if e.kind == "refund_reversal" and e.source_ref and e.source_ref.isdigit()
    }
    if not refs:
        return {}
    rows = session.execute(
        select(OrderEvent.source_id, OrderEvent.facts).where(
            OrderEvent.shop_id == shop_id,
            OrderEvent.kind == "refund",
            OrderEvent.source_id.in_(refs),
        )
    )
    units: dict[str, int] = {}
    for source_id, facts in rows:
        lines = (facts or {}).get("lines", [])
        units[str(source_id)] = sum(int(q) for _, q in lines if isinstance(q, int))
    return units


def describe(entry: LedgerEntry, units: Mapping[str, int]) -> str:
    """One line a shop owner reads without knowing Kanta's internals."""
    details: dict[str, Any] = entry.details or {}
    kind = entry.kind
    if kind == "order_award":
        return order_label(entry)
    if kind == "refund_reversal":
        count = units.get(entry.source_ref or "")
        if count:
            return f"Refund of {count} item{'' if count == 1 else 's'} on {order_label(entry)}"
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
        parts = [f"{details['eligible_amount']} {details.get('currency', '')}".strip()]
        multiplier = details.get("multiplier")
        if multiplier and multiplier not in ("1", "1.0"):
            parts.append(f"×{multiplier} tier bonus")
        if entry.pending_points:
            parts.append(f"pending for {details.get('pending_days')} days")
        return " · ".join(parts)
    if entry.kind == "refund_reversal" and details.get("refunded_eligible"):
        return f"{details['refunded_eligible']} refunded"
    if entry.kind == "adjustment" and entry.actor:
        return f"by {entry.actor}"
    return None

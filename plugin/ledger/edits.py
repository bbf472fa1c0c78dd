"""Edits and exchanges after payment: an order ends with the points of its final paid contents.

Every order payload after the award (``orders/updated`` — which Shopify also sends after an
``orders/edited`` — fulfilment, and the paying payload itself) is read against the award's
snapshot: units it no longer has are reversed (once: see ``loyalty.settlement``), lines an edit
or an exchange added earn, once the order is paid in full, with the award's stored rate and
multiplier, in an entry of their own.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from ..loyalty.edits import OrderEditFacts
from ..loyalty.orders import CENT, OrderFacts
from ..loyalty.points import award_points
from ..loyalty.program import ProgramSettings
from ..models import Customer, Order, Shop
from .awards import reverse_to_snapshot, snapshot_of
from .entries import Change, append


def apply_contents(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer,
    facts: OrderFacts,
    source_id: int,
    now: datetime,
) -> None:
    """Read one order payload against the awarded order (order and customer locked)."""
    snapshot, added = snapshot_of(order).with_contents(facts)
    if added:
        rate = order.earn_rate if order.earn_rate is not None else program.earn_rate
        multiplier = order.multiplier if order.multiplier is not None else Decimal(1)
        target = award_points(snapshot.eligible, rate, multiplier)
        points = max(target - order.awarded_points, 0)
        pending = points if order.pending_remaining > 0 else 0  # before the order's release
        order.awarded_points += points
        order.pending_remaining += pending
        order.eligible_amount = snapshot.eligible.quantize(CENT)
        order.facts = snapshot.to_json()
        if points:
            append(
                session,
                shop,
                program,
                customer,
                Change(
                    kind="edit_award",
                    source="order",
                    # Lines are only ever added: their count names each addition once.
                    key=f"order:{order.shopify_order_id}:edit:{len(snapshot.lines)}",
                    points=points - pending,
                    pending=pending,
                    tier=points,
                    tier_counted_at=order.awarded_at,
                    processed_at=now,
                    shopify_order_id=order.shopify_order_id,
                    details={
                        "order_name": order.name,
                        "added_lines": [str(i) for i in added],
                        "eligible_amount": str(order.eligible_amount),
                        "earn_rate": str(rate),
                        "multiplier": format(multiplier.normalize(), "f"),
                        "awarded_points": order.awarded_points,
                    },
                ),
                now,
            )
    reverse_to_snapshot(
        session,
        shop,
        program,
        order,
        customer,
        snapshot,
        kind="edit_reversal",
        source="order",
        key=f"order:{order.shopify_order_id}:seen:{source_id}",
        source_ref=None,
        details={"reason": "units no longer on the order"},
        now=now,
        award_grew=bool(added),
    )


def apply_edit(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer,
    edit: OrderEditFacts,
    now: datetime,
) -> None:
    """Reverse the units an ``orders/edited`` removed (once: see ``loyalty.settlement``)."""
    reverse_to_snapshot(
        session,
        shop,
        program,
        order,
        customer,
        snapshot_of(order).with_edit(edit),
        kind="edit_reversal",
        source="order",
        key=f"order_edit:{edit.edit_id}",
        source_ref=str(edit.edit_id),
        details={"reason": "units removed by an order edit"},
        now=now,
    )

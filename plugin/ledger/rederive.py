"""Re-deriving each awarded order's points from its stored events, for ``ledger verify``.

The award's snapshot is rebuilt from the paying payload kept on the trigger event (with the
settings the award recorded), every refund, edit and later payload is applied again in arrival
order with the same pure rules the ledger used (``loyalty.settlement``), and the expected net
points — the award with its stored rate and (corrected) multiplier, less the reversals — are
compared with the sum of the order's entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..loyalty.edits import OrderEditFacts
from ..loyalty.orders import RefundFacts
from ..loyalty.points import award_points, cumulative_reversal
from ..loyalty.settlement import OrderSnapshot
from ..models import LedgerEntry, Order, OrderEvent, Shop
from .entries import program_of
from .facts import facts_from_json
from .orders import CONTENT_KINDS, award_trigger

ORDER_ENTRY_KINDS = (
    "order_award",
    "edit_award",
    "refund_reversal",
    "edit_reversal",
    "cancellation_reversal",
    "tier_correction",
    "pending_release",
)


@dataclass(frozen=True)
class OrderMismatch:
    shop_domain: str
    shopify_order_id: int
    expected: int
    ledger: int


def expected_points(session: Session, shop: Shop, order: Order) -> int | None:
    """The order's net points as its events call for; None if it cannot be re-derived."""
    if order.award_status != "awarded" or order.facts is None or order.multiplier is None:
        return None
    program = program_of(shop)
    events = list(
        session.scalars(
            select(OrderEvent)
            .where(
                OrderEvent.shop_id == shop.id,
                OrderEvent.shopify_order_id == order.shopify_order_id,
            )
            .order_by(OrderEvent.id)
        )
    )
    trigger = award_trigger(program, events)
    if trigger is None:
        return None
    stored = OrderSnapshot.from_json(order.facts)
    snapshot = OrderSnapshot.of(
        facts_from_json(order.shopify_order_id, trigger.facts),
        include_shipping=stored.include_shipping,
        include_tax=stored.include_tax,
    )
    cancelled = False
    for event in events:
        if event.kind == "refund":
            refund = RefundFacts.from_json(event.source_id, order.shopify_order_id, event.facts)
            snapshot = snapshot.with_refund(refund)
        elif event.kind == "cancelled":
            cancelled = True
        elif event.kind == "edited" and not cancelled:
            edit = OrderEditFacts.from_json(event.source_id, order.shopify_order_id, event.facts)
            snapshot = snapshot.with_edit(edit)
        elif event.kind in CONTENT_KINDS and not cancelled:
            facts = facts_from_json(order.shopify_order_id, event.facts)
            snapshot = snapshot.with_contents(facts)[0]
    rate = order.earn_rate if order.earn_rate is not None else program.earn_rate
    awarded = award_points(snapshot.eligible, rate, order.multiplier)
    if cancelled:
        return 0
    reversed_eligible = snapshot.reversed_eligible(
        amount_refunds_reverse=program.amount_refunds_reverse_points
    )
    return awarded - cumulative_reversal(awarded, snapshot.eligible, reversed_eligible)


def verify_orders(session: Session, shop: Shop) -> list[OrderMismatch]:
    """Every awarded order of ``shop`` whose ledger entries disagree with its events."""
    sums = dict(
        session.execute(
            select(
                LedgerEntry.shopify_order_id,
                func.coalesce(func.sum(LedgerEntry.points + LedgerEntry.pending_points), 0),
            )
            .where(
                LedgerEntry.shop_id == shop.id,
                LedgerEntry.shopify_order_id.is_not(None),
                LedgerEntry.kind.in_(ORDER_ENTRY_KINDS),
            )
            .group_by(LedgerEntry.shopify_order_id)
        ).all()
    )
    problems: list[OrderMismatch] = []
    orders = session.scalars(
        select(Order)
        .where(Order.shop_id == shop.id, Order.award_status == "awarded")
        .order_by(Order.id)
    )
    for order in orders:
        expected = expected_points(session, shop, order)
        if expected is None:
            continue
        actual = int(sums.get(order.shopify_order_id, 0))
        if actual != expected:
            problems.append(OrderMismatch(shop.domain, order.shopify_order_id, expected, actual))
    return problems

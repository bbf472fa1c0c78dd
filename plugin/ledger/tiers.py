"""Tiers by when things happened: an order earns at the tier its customer held when Shopify
processed it (``processed_at``), counting every award and reversal processed before it, whatever
order the webhooks arrive in; for the same ``processed_at``, arrival order decides.

Entries carry the ``processed_at`` of the merchant's action behind them (the order's, the
refund's). When a late delivery (an order, or a refund, processed before orders already awarded)
changes the tier one of those later orders should have had, that order is corrected: its award
and reversals are recomputed with the right multiplier and the difference is appended as
``tier_correction`` entries saying why, one per moment at which the order's tier points moved
(``loyalty.order_timeline``): the award's difference at the order's ``processed_at``, each
refund's at the refund's. So an order refunded in full before it was corrected still counts for
more (or less) between its award and its refund, as it would have had the deliveries come in
order. The later orders are worked through in processed order, so each correction counts for
the orders after it; for the same ``processed_at`` a correction takes the place of the entries
it corrects (arrival order still decides).

Locks: the later orders are locked (in id order) *before* the customer, like every writer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from ..loyalty.edits import OrderEditFacts
from ..loyalty.order_timeline import Step, moves_by_moment
from ..loyalty.orders import RefundFacts
from ..loyalty.points import award_points, cumulative_reversal, split_reversal
from ..loyalty.program import ProgramSettings, Tier
from ..loyalty.settlement import OrderSnapshot
from ..models import Customer, LedgerEntry, Order, OrderEvent, Shop
from .entries import Change, append, entry_by_key
from .facts import facts_from_json


def _effective() -> ColumnElement[datetime]:
    return func.coalesce(LedgerEntry.processed_at, LedgerEntry.created_at)


def lock_later_orders(
    session: Session, shop: Shop, customer_pk: int, moment: datetime, exclude: int
) -> list[Order]:
    """Lock the customer's awarded orders processed after ``moment`` (before the customer)."""
    if session.dirty or session.new:
        session.flush()  # populate_existing must not overwrite unflushed changes
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.shop_id == shop.id,
                Order.customer_id == customer_pk,
                Order.award_status == "awarded",
                Order.processed_at > moment,
                Order.id != exclude,
            )
            .order_by(Order.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def tier_at(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    customer: Customer,
    moment: datetime,
    *,
    order_id: int | None = None,
    award_entry_id: int | None = None,
) -> Tier:
    """The tier held at ``moment``. When nothing processed later is on the ledger (deliveries
    in order, the usual case) that is the customer's current tier points."""
    if session.new or session.dirty:
        session.flush()  # entries appended in this unit of work count too (no autoflush here)
    effective = _effective()
    base = [
        LedgerEntry.shop_id == shop.id,
        LedgerEntry.customer_id == customer.id,
        # A literal, not a bound 0: only then may the planners use the partial index
        # ix_ledger_customer_tier_moment (its predicate must be implied by the query's text).
        LedgerEntry.tier_points != literal_column("0"),
    ]
    if order_id is not None:
        base.append(
            or_(LedgerEntry.shopify_order_id.is_(None), LedgerEntry.shopify_order_id != order_id)
        )
    later = session.scalar(select(func.count()).where(*base, effective > moment))
    if not later and order_id is None:
        return program.tier_for(customer.tier_points)
    if award_entry_id is not None:
        before = or_(
            effective < moment,
            and_(effective == moment, _arrival_rank(moment) < award_entry_id),
        )
    else:
        before = effective <= moment
    window_start = moment - timedelta(days=program.tier_window_days)
    points = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.tier_points), 0)).where(
            *base,
            before,
            or_(LedgerEntry.tier_counted_at.is_(None), LedgerEntry.tier_counted_at >= window_start),
        )
    )
    return program.tier_for(int(points or 0))


def correct_later_awards(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    customer: Customer,
    later: list[Order],
    now: datetime,
) -> int:
    """Re-tier the (locked) ``later`` orders in processed order; returns corrections made."""
    awarded: list[tuple[datetime, int, Order, LedgerEntry]] = []
    for order in later:
        if order.award_status != "awarded" or order.processed_at is None or order.facts is None:
            continue
        award = entry_by_key(session, shop, f"order:{order.shopify_order_id}:award")
        if award is not None:
            awarded.append((order.processed_at, award.id, order, award))
    made = 0
    # Processed order, and arrival order of the awards for the same moment (as tier_at counts).
    for processed_at, _, order, award in sorted(awarded, key=lambda item: item[:2]):
        tier = tier_at(
            session,
            shop,
            program,
            customer,
            processed_at,
            order_id=order.shopify_order_id,
            award_entry_id=award.id,
        )
        if order.multiplier is not None and tier.multiplier == order.multiplier:
            continue
        _correct(session, shop, program, customer, order, tier, award.details.get("tier"), now)
        made += 1
    return made


def _arrival_rank(moment: datetime) -> ColumnElement[int]:
    """For entries processed at ``moment``: their place in arrival order. A correction takes
    the place of the first entry of its order at that moment (the award, or the refund, it
    corrects), so it counts wherever the entry it corrects counts."""
    corrected = aliased(LedgerEntry)
    first = (
        select(func.min(corrected.id))
        .where(
            corrected.shop_id == LedgerEntry.shop_id,
            corrected.customer_id == LedgerEntry.customer_id,
            corrected.shopify_order_id == LedgerEntry.shopify_order_id,
            corrected.kind != "tier_correction",
            func.coalesce(corrected.processed_at, corrected.created_at) == moment,
        )
        .scalar_subquery()
    )
    return case(
        (LedgerEntry.kind == "tier_correction", func.coalesce(first, LedgerEntry.id)),
        else_=LedgerEntry.id,
    )


def _correct(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    customer: Customer,
    order: Order,
    tier: Tier,
    was: str | None,
    now: datetime,
) -> None:
    assert order.facts is not None
    snapshot = OrderSnapshot.from_json(order.facts)
    rate = order.earn_rate if order.earn_rate is not None else program.earn_rate
    awarded = award_points(snapshot.eligible, rate, tier.multiplier)
    if order.cancelled_at is not None:
        reversed_points = awarded
    else:
        reversed_eligible = snapshot.reversed_eligible(
            amount_refunds_reverse=program.amount_refunds_reverse_points
        )
        reversed_points = cumulative_reversal(awarded, snapshot.eligible, reversed_eligible)
    old_multiplier = order.multiplier or Decimal(1)
    order.awarded_points, order.reversed_points = awarded, reversed_points
    order.multiplier = tier.multiplier
    details = {
        "order_name": order.name,
        "reason": "an order or refund processed before this order arrived late: "
        "the tier this order was processed at changed",
        "tier_was": was,
        "tier": tier.key,
        "multiplier_was": format(old_multiplier.normalize(), "f"),
        "multiplier": format(tier.multiplier.normalize(), "f"),
        "awarded_points": awarded,
        "reversed_total": reversed_points,
    }
    count = int(
        session.scalar(
            select(func.count()).where(
                LedgerEntry.shop_id == shop.id,
                LedgerEntry.kind == "tier_correction",
                LedgerEntry.shopify_order_id == order.shopify_order_id,
            )
        )
        or 0
    )
    for moment, delta in _corrections(session, shop, program, order, awarded - reversed_points):
        count += 1
        _append_correction(
            session, shop, program, customer, order, moment, delta, count, details, now
        )


def _corrections(
    session: Session, shop: Shop, program: ProgramSettings, order: Order, net: int
) -> list[tuple[datetime, int]]:
    """(moment, tier points) to append so that, at every moment, the order's entries add up to
    what its award and steps move at its new multiplier, and in all to ``net``."""
    assert order.processed_at is not None
    wanted = _moves(session, shop, program, order)
    held: dict[datetime, int] = {}
    for processed_at, created_at, tier_points in session.execute(
        select(LedgerEntry.processed_at, LedgerEntry.created_at, LedgerEntry.tier_points).where(
            LedgerEntry.shop_id == shop.id,
            LedgerEntry.customer_id == order.customer_id,
            LedgerEntry.shopify_order_id == order.shopify_order_id,
            LedgerEntry.tier_points != 0,
        )
    ):
        moment = (processed_at or created_at).astimezone(UTC)
        held[moment] = held.get(moment, 0) + tier_points
    moments = sorted(set(wanted) | set(held))
    if wanted:
        # The replay and the award's arithmetic agree; should they not, the total is the award's.
        last = max(wanted)
        wanted[last] += net - sum(wanted.values())
    out: list[tuple[datetime, int]] = []
    for moment in moments:
        delta = wanted.get(moment, 0) - held.get(moment, 0)
        if delta:
            out.append((moment, delta))
    if not wanted and net != sum(held.values()):
        out.append((order.processed_at, net - sum(held.values())))
    return out


def _moves(
    session: Session, shop: Shop, program: ProgramSettings, order: Order
) -> dict[datetime, int]:
    """What the order's award and applied events move, at each moment, at its multiplier."""
    from .orders import CONTENT_KINDS, award_trigger  # orders imports this module

    assert order.processed_at is not None
    assert order.multiplier is not None
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
    if trigger is None or order.facts is None:
        return {}
    stored = OrderSnapshot.from_json(order.facts)
    award = OrderSnapshot.of(
        facts_from_json(order.shopify_order_id, trigger.facts),
        include_shipping=stored.include_shipping,
        include_tax=stored.include_tax,
    )
    steps: list[Step] = []
    # Applied in arrival order, as settle_order applied them (the award's own payload too).
    for event in events:
        if event.applied_at is None:
            continue
        if event.kind == "refund":
            refund = RefundFacts.from_json(event.source_id, order.shopify_order_id, event.facts)
            steps.append(Step(event.applied_at, refund=refund))
        elif event.kind == "cancelled":
            steps.append(Step(event.applied_at, cancelled=True))
        elif event.kind == "edited":
            edit = OrderEditFacts.from_json(event.source_id, order.shopify_order_id, event.facts)
            steps.append(Step(event.applied_at, edit=edit))
        elif event.kind in CONTENT_KINDS:
            contents = facts_from_json(order.shopify_order_id, event.facts)
            steps.append(Step(event.applied_at, contents=contents))
    rate = order.earn_rate if order.earn_rate is not None else program.earn_rate
    return moves_by_moment(
        award,
        order.processed_at,
        steps,
        rate,
        order.multiplier,
        amount_refunds_reverse=program.amount_refunds_reverse_points,
    )


def _append_correction(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    customer: Customer,
    order: Order,
    moment: datetime,
    delta: int,
    number: int,
    details: dict[str, Any],
    now: datetime,
) -> None:
    if delta > 0:
        pending = delta if order.pending_remaining > 0 else 0
        order.pending_remaining += pending
        points = delta - pending
    else:
        from_pending, from_available = split_reversal(-delta, order.pending_remaining)
        order.pending_remaining -= from_pending
        pending, points = -from_pending, -from_available
    append(
        session,
        shop,
        program,
        customer,
        Change(
            kind="tier_correction",
            source="order",
            key=f"order:{order.shopify_order_id}:tier:{number}",
            points=points,
            pending=pending,
            tier=delta,
            tier_counted_at=order.awarded_at,
            processed_at=moment,
            shopify_order_id=order.shopify_order_id,
            details={**details, "at": "award" if moment == order.processed_at else "later step"},
        ),
        now,
    )

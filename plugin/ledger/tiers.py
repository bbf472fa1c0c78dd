"""Tiers by when things happened: an order earns at the tier its customer held when Shopify
processed it (``processed_at``), counting every award and reversal processed before it, whatever
order the webhooks arrive in; for the same ``processed_at``, arrival order decides.

Entries carry the ``processed_at`` of the merchant's action behind them (the order's, the
refund's). When a late delivery (an order, or a refund, processed before orders already awarded)
changes the tier one of those later orders should have had, that order is corrected: its award
and reversals are recomputed with the right multiplier and the difference is appended as a
``tier_correction`` entry saying why. Corrections are entries processed at the corrected order's
``processed_at``, so they count for the orders after it, and are worked through in that order.

Locks: the later orders are locked (in id order) *before* the customer, like every writer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from ..loyalty.points import award_points, cumulative_reversal, split_reversal
from ..loyalty.program import ProgramSettings, Tier
from ..loyalty.settlement import OrderSnapshot
from ..models import Customer, LedgerEntry, Order, Shop
from .entries import Change, append, entry_by_key


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
        LedgerEntry.tier_points != 0,
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
            and_(effective == moment, LedgerEntry.id < award_entry_id),
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
    made = 0
    for order in sorted(later, key=lambda o: (o.processed_at or now, o.id)):
        if order.award_status != "awarded" or order.processed_at is None or order.facts is None:
            continue
        award = entry_by_key(session, shop, f"order:{order.shopify_order_id}:award")
        if award is None:
            continue
        tier = tier_at(
            session,
            shop,
            program,
            customer,
            order.processed_at,
            order_id=order.shopify_order_id,
            award_entry_id=award.id,
        )
        if order.multiplier is not None and tier.multiplier == order.multiplier:
            continue
        _correct(session, shop, program, customer, order, tier, award.details.get("tier"), now)
        made += 1
    return made


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
    delta = (awarded - reversed_points) - (order.awarded_points - order.reversed_points)
    old_multiplier = order.multiplier or Decimal(1)
    order.awarded_points, order.reversed_points = awarded, reversed_points
    order.multiplier = tier.multiplier
    if delta == 0:
        return
    if delta > 0:
        pending = delta if order.pending_remaining > 0 else 0
        order.pending_remaining += pending
        points = delta - pending
    else:
        from_pending, from_available = split_reversal(-delta, order.pending_remaining)
        order.pending_remaining -= from_pending
        pending, points = -from_pending, -from_available
    count = session.scalar(
        select(func.count()).where(
            LedgerEntry.shop_id == shop.id,
            LedgerEntry.kind == "tier_correction",
            LedgerEntry.shopify_order_id == order.shopify_order_id,
        )
    )
    append(
        session,
        shop,
        program,
        customer,
        Change(
            kind="tier_correction",
            source="order",
            key=f"order:{order.shopify_order_id}:tier:{int(count or 0) + 1}",
            points=points,
            pending=pending,
            tier=delta,
            tier_counted_at=order.awarded_at,
            processed_at=order.processed_at,
            shopify_order_id=order.shopify_order_id,
            details={
                "order_name": order.name,
                "reason": "an order or refund processed before this order arrived late: "
                "the tier this order was processed at changed",
                "tier_was": was,
                "tier": tier.key,
                "multiplier_was": format(old_multiplier.normalize(), "f"),
                "multiplier": format(tier.multiplier.normalize(), "f"),
                "awarded_points": awarded,
                "reversed_total": reversed_points,
            },
        ),
        now,
    )

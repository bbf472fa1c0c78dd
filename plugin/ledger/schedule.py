"""Time-driven jobs: releasing pending points, expiring inactive points, ageing tiers."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Customer, LedgerEntry, Order, Shop
from .entries import Change, append, program_of
from .locks import hold_shop, lock_customer_by_pk


def release_pending_points(session: Session, shop: Shop, now: datetime) -> int:
    """Make pending points available once their order's pending period is over.

    The shop's row is held first, then every due order is locked (in id order), then the
    customers one by one: the ledger's lock order (shop, orders, customers), so a webhook
    settling one of these orders, or shop/redact, waits for the job instead of deadlocking with it.
    """
    hold_shop(session, shop)
    program = program_of(shop)
    due = list(
        session.scalars(
            select(Order)
            .where(
                Order.shop_id == shop.id,
                Order.pending_remaining > 0,
                Order.available_at <= now,
            )
            .order_by(Order.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    released = 0
    for order in due:
        if order.pending_remaining <= 0 or order.customer_id is None:
            continue
        customer = lock_customer_by_pk(session, shop, order.customer_id)
        amount = order.pending_remaining
        order.pending_remaining = 0
        append(
            session,
            shop,
            program,
            customer,
            Change(
                kind="pending_release",
                source="order",
                key=f"order:{order.shopify_order_id}:release",
                points=amount,
                pending=-amount,
                shopify_order_id=order.shopify_order_id,
                details={"order_name": order.name},
            ),
            now,
        )
        released += 1
    return released


def expire_inactive_points(session: Session, shop: Shop, now: datetime) -> int:
    """Expire available points of members with no earning or redemption for expiry_days."""
    program = program_of(shop)
    if program.expiry_days is None:
        return 0
    cutoff = now - timedelta(days=program.expiry_days)
    due = list(
        session.scalars(
            select(Customer.id).where(
                Customer.shop_id == shop.id,
                Customer.points_balance > 0,
                Customer.last_activity_at < cutoff,
            )
        )
    )
    expired = 0
    for customer_pk in due:
        customer = lock_customer_by_pk(session, shop, customer_pk)
        last = customer.last_activity_at
        if customer.points_balance <= 0 or last is None or last >= cutoff:
            continue
        append(
            session,
            shop,
            program,
            customer,
            Change(
                kind="expiry",
                source="expiry",
                # One expiry per period of inactivity, however often the job runs.
                key=f"expiry:{customer.id}:{last.isoformat()}",
                points=-customer.points_balance,
                details={"inactive_since": last.isoformat(), "expiry_days": program.expiry_days},
            ),
            now,
        )
        expired += 1
    return expired


def refresh_tiers(session: Session, shop: Shop, now: datetime) -> int:
    """Age tier points out of the rolling window; downgrade whoever falls below a threshold.

    Each customer's ``tier_points`` is the sum of their entries counted since their own
    ``tier_counted_since`` (all of them while it is null). This job moves that start to
    ``now − window`` for the customers who have entries in the slice that just aged out —
    the slices are contiguous (``shops.tiers_aged_until``), so each day touches only the
    customers whose points actually age — locking each customer like every other writer and
    recounting after the lock, so an award committed meanwhile is never lost. Customers whose
    tier no longer matches the program's thresholds (the merchant changed them) are fixed too.
    Returns how many customers changed tier points or tier.
    """
    program = program_of(shop)
    window_start = now - timedelta(days=program.tier_window_days)
    aging = [
        LedgerEntry.shop_id == shop.id,
        LedgerEntry.tier_points != 0,
        LedgerEntry.tier_counted_at < window_start,
    ]
    if shop.tiers_aged_until is not None:
        aging.append(LedgerEntry.tier_counted_at >= shop.tiers_aged_until)
    due = set(session.scalars(select(LedgerEntry.customer_id).where(*aging).distinct()))
    for customer_pk, tier_points, tier_key in session.execute(
        select(Customer.id, Customer.tier_points, Customer.tier_key).where(
            Customer.shop_id == shop.id
        )
    ):
        if tier_key is not None and tier_key != program.tier_for(tier_points).key:
            due.add(customer_pk)
    changed = 0
    for customer_pk in sorted(due):
        customer = lock_customer_by_pk(session, shop, customer_pk)
        since = customer.tier_counted_since
        if since is None or since < window_start:
            since = window_start
        total = int(
            session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.tier_points), 0)).where(
                    LedgerEntry.shop_id == shop.id,
                    LedgerEntry.customer_id == customer.id,
                    LedgerEntry.tier_counted_at >= since,
                )
            )
            or 0
        )
        key = program.tier_for(total).key
        if (total, key) != (customer.tier_points, customer.tier_key):
            changed += 1
        customer.tier_points = total
        customer.tier_key = key
        customer.tier_counted_since = since
        customer.updated_at = now
    if shop.tiers_aged_until is None or shop.tiers_aged_until < window_start:
        shop.tiers_aged_until = window_start
    return changed

"""The points ledger: every change of points goes through a function of this module.

Each function works inside the caller's transaction (one unit of work per webhook, job or API
call) and appends ledger entries with an idempotency key unique per shop, updating the
customer's projections (balance, pending, tier points, tier) in the same transaction.

Order events may arrive in any order and any number of times. Each is recorded once in
``order_events`` (unique on its source), then the order is *settled*: whatever its recorded
events call for and the ledger does not have yet is appended, in arrival order. A refund that
comes before the award waits and is applied right after it, so every interleaving and
duplication of an order's events ends in the same entries.

Concurrency: the order row is locked first (``SELECT … FOR UPDATE``, or the row lock of an
upsert, on PostgreSQL; SQLite serialises writers), then the customer row. Nothing locks them the
other way round: the daily release locks all its orders before any customer, the other jobs and
the merchant's adjustments lock customers only, and ``customers/redact`` locks the customer's
orders before the customer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from .db import insert_for
from .loyalty.orders import (
    CENT,
    CustomerFacts,
    EligibleAmounts,
    LineFacts,
    OrderFacts,
    RefundFacts,
    ShippingFacts,
    eligible_amounts,
)
from .loyalty.points import award_points, cumulative_reversal, split_reversal
from .loyalty.program import ProgramSettings
from .models import Customer, LedgerEntry, Order, OrderEvent, RedactedCustomer, Shop

ZERO = Decimal("0")


class LedgerError(ValueError):
    """A request the ledger refuses (bad adjustment, unknown customer...)."""


def program_of(shop: Shop) -> ProgramSettings:
    return ProgramSettings.from_dict(shop.program)


# --- locking helpers -----------------------------------------------------------------------


def _locked(session: Session, stmt: Select[Any]) -> Any:
    return session.scalars(
        stmt.with_for_update().execution_options(populate_existing=True)
    ).one_or_none()


def _upsert_locked(
    session: Session, model: type[Any], keys: list[str], values: dict[str, Any], now: datetime
) -> Any:
    """Insert the row if new, else lock the existing one; either way return it, in one statement.

    ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: on PostgreSQL the update takes the row lock
    that ``SELECT … FOR UPDATE`` would (a concurrent delivery for the same row waits for this
    transaction); SQLite serialises writers anyway. One round trip instead of two on the path of
    every delivery.
    """
    if session.dirty or session.new:
        # populate_existing would overwrite unflushed changes to a row already in the session
        # (a second order of the same customer in one unit of work): write them first.
        session.flush()
    stmt = (
        insert_for(session, model)
        .values(**values, created_at=now, updated_at=now)
        .on_conflict_do_update(index_elements=keys, set_={"updated_at": now})
        .returning(model)
    )
    return session.scalars(stmt, execution_options={"populate_existing": True}).one()


def lock_order(session: Session, shop: Shop, shopify_order_id: int, now: datetime) -> Order:
    order: Order = _upsert_locked(
        session,
        Order,
        ["shop_id", "shopify_order_id"],
        {
            "shop_id": shop.id,
            "shopify_order_id": shopify_order_id,
            "award_status": "waiting",
            "awarded_points": 0,
            "reversed_points": 0,
            "refunded_eligible": ZERO,
            "pending_remaining": 0,
            "is_test": False,
        },
        now,
    )
    return order


def suppression_key(shop_id: int, shopify_customer_id: int) -> str:
    """How an erased customer is remembered: a hash, never the id itself."""
    return hashlib.sha256(f"kanta:{shop_id}:{shopify_customer_id}".encode()).hexdigest()


def lock_customer(
    session: Session,
    shop: Shop,
    facts: CustomerFacts,
    now: datetime,
    *,
    honour_redaction: bool = True,
) -> Customer | None:
    """The customer row for these facts, created if new, locked, identity refreshed.

    None if the customer was erased (``customers/redact``) and this row would bring them back:
    the caller treats the order as a guest's.
    """
    customer: Customer = _upsert_locked(
        session,
        Customer,
        ["shop_id", "shopify_customer_id"],
        {
            "shop_id": shop.id,
            "shopify_customer_id": facts.shopify_id,
            "is_member": False,
            "points_balance": 0,
            "pending_points": 0,
            "tier_points": 0,
        },
        now,
    )
    if customer.created_at == now and honour_redaction:
        # A row created just now: make sure it is not an erased customer coming back.
        key = suppression_key(shop.id, facts.shopify_id)
        if session.scalar(
            select(RedactedCustomer.id).where(
                RedactedCustomer.shop_id == shop.id, RedactedCustomer.customer_key == key
            )
        ):
            session.delete(customer)
            session.flush()
            return None
    if facts.email is not None:
        customer.email = facts.email
    if facts.first_name is not None:
        customer.first_name = facts.first_name
    if facts.last_name is not None:
        customer.last_name = facts.last_name
    return customer


def _lock_customer_by_pk(session: Session, shop: Shop, customer_id: int) -> Customer:
    customer: Customer | None = _locked(
        session,
        select(Customer).where(Customer.shop_id == shop.id, Customer.id == customer_id),
    )
    if customer is None:
        raise LedgerError("no such customer in this shop")
    return customer


# --- appending -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: str
    source: str
    key: str
    points: int = 0
    pending: int = 0
    tier: int = 0
    tier_counted_at: datetime | None = None
    shopify_order_id: int | None = None
    source_ref: str | None = None
    details: dict[str, Any] | None = None
    reason: str | None = None
    actor: str | None = None


def append(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    customer: Customer,
    change: Change,
    now: datetime,
) -> LedgerEntry:
    """Append one entry and move the customer's projections with it. Caller holds the lock."""
    entry = LedgerEntry(
        shop_id=shop.id,
        customer_id=customer.id,
        kind=change.kind,
        source=change.source,
        idempotency_key=change.key,
        points=change.points,
        pending_points=change.pending,
        tier_points=change.tier,
        tier_counted_at=change.tier_counted_at,
        shopify_order_id=change.shopify_order_id,
        source_ref=change.source_ref,
        details=change.details or {},
        reason=change.reason,
        actor=change.actor,
        created_at=now,
    )
    session.add(entry)
    customer.points_balance += change.points
    customer.pending_points += change.pending
    if change.points > 0 or change.pending > 0:
        # Points earned, released or credited restart the inactivity clock of expiry: an
        # expiry always ends an inactivity period that no credit has reopened.
        customer.last_activity_at = now
    counted_at = change.tier_counted_at
    since = customer.tier_counted_since
    if change.tier and counted_at is not None and (since is None or counted_at >= since):
        customer.tier_points += change.tier
    customer.tier_key = program.tier_for(customer.tier_points).key
    customer.updated_at = now
    return entry


# --- order events --------------------------------------------------------------------------


ORDER_EVENT_KINDS = ("paid", "fulfilled", "cancelled")


def record_order(
    session: Session, shop: Shop, facts: OrderFacts, event: str | None, now: datetime
) -> Order:
    """Record what an order payload says, note ``event`` (paid/fulfilled/cancelled) once, settle.

    ``event`` is None for orders/create and orders/updated: the order is remembered (for the
    preference and analytics features) but nothing about points changes.
    """
    # One flush at commit instead of one per statement: the hot path of every delivery.
    with session.no_autoflush:
        return _record_order(session, shop, facts, event, now)


def _record_order(
    session: Session, shop: Shop, facts: OrderFacts, event: str | None, now: datetime
) -> Order:
    order = lock_order(session, shop, facts.order_id, now)
    customer: Customer | None = None
    # Points stay with whoever earned them: once awarded, a later payload naming another
    # customer (the merchant edited the order) does not move the order, nor its reversals.
    if facts.customer is not None and order.award_status != "awarded":
        customer = lock_customer(session, shop, facts.customer, now)
        if customer is not None:
            order.customer_id = customer.id
    _remember_order(order, facts)
    if event is not None:
        if event not in ORDER_EVENT_KINDS:
            raise ValueError(event)
        _record_event(session, shop, facts.order_id, event, facts.order_id, _facts_json(facts), now)
        if event == "paid" and order.paid_at is None:
            order.paid_at = now
        elif event == "fulfilled" and order.fulfilled_at is None:
            order.fulfilled_at = now
        elif event == "cancelled" and order.cancelled_at is None:
            order.cancelled_at = now
        if customer is not None and event in ("paid", "fulfilled"):
            customer.last_order_at = max(customer.last_order_at or now, now)
    settle_order(session, shop, order, now, customer=customer)
    order.updated_at = now
    return order


def record_refund(session: Session, shop: Shop, refund: RefundFacts, now: datetime) -> Order:
    order = lock_order(session, shop, refund.order_id, now)
    _record_event(session, shop, refund.order_id, "refund", refund.refund_id, refund.to_json(), now)
    settle_order(session, shop, order, now)
    order.updated_at = now
    return order


def _record_event(
    session: Session,
    shop: Shop,
    order_id: int,
    kind: str,
    source_id: int,
    facts: dict[str, Any],
    now: datetime,
) -> None:
    session.execute(
        insert_for(session, OrderEvent)
        .values(
            shop_id=shop.id,
            shopify_order_id=order_id,
            kind=kind,
            source_id=source_id,
            facts=facts,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["shop_id", "kind", "source_id"])
    )


def _remember_order(order: Order, facts: OrderFacts) -> None:
    order.name = facts.name or order.name
    order.source_name = facts.source_name or order.source_name
    order.is_test = facts.is_test
    order.currency = facts.currency or order.currency
    if facts.total_price is not None:
        order.total_price = facts.total_price
    order.payment_gateway = facts.payment_gateway or order.payment_gateway
    ship = facts.shipping[0] if facts.shipping else None
    if ship is not None:
        order.delivery_title = ship.title
        order.delivery_code = ship.code
        order.delivery_kind = ship.kind
    elif facts.is_pos:
        order.delivery_kind = "pos"


def _facts_json(facts: OrderFacts) -> dict[str, Any]:
    """What an award needs from the paying payload, kept with the event."""
    return {
        "is_test": facts.is_test,
        "has_customer": facts.customer is not None,
        "taxes_included": facts.taxes_included,
        "currency": facts.currency,
        "name": facts.name,
        "source_name": facts.source_name,
        "lines": [
            [ln.line_id, ln.quantity, ln.gift_card, str(ln.net), str(ln.tax)] for ln in facts.lines
        ],
        "shipping": [[s.kind, str(s.net), str(s.tax)] for s in facts.shipping],
    }


def _facts_from_json(order_id: int, data: dict[str, Any]) -> OrderFacts:
    return OrderFacts(
        order_id=order_id,
        name=data.get("name"),
        customer=None,
        is_test=bool(data.get("is_test")),
        source_name=data.get("source_name"),
        currency=data.get("currency"),
        taxes_included=bool(data.get("taxes_included")),
        total_price=None,
        lines=tuple(
            LineFacts(int(i), int(q), bool(g), Decimal(n), Decimal(t))
            for i, q, g, n, t in data.get("lines", [])
        ),
        shipping=tuple(
            ShippingFacts(None, None, None, k, Decimal(n), Decimal(t))
            for k, n, t in data.get("shipping", [])
        ),
        payment_gateway=None,
    )


def settle_order(
    session: Session,
    shop: Shop,
    order: Order,
    now: datetime,
    *,
    customer: Customer | None = None,
) -> None:
    """Append whatever the order's recorded events call for. The order row must be locked."""
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
    if order.award_status == "waiting":
        trigger = next((e for e in events if e.kind == program.award_on), None)
        if trigger is not None:
            if customer is None and order.customer_id is not None:
                customer = _lock_customer_by_pk(session, shop, order.customer_id)
            _award(session, shop, program, order, customer, trigger, now)
    if order.award_status == "waiting":
        return  # refunds and cancellations wait for the award
    if customer is None and order.customer_id is not None and order.award_status == "awarded":
        customer = _lock_customer_by_pk(session, shop, order.customer_id)
    if order.award_status == "awarded" and order.facts and "refunded" not in order.facts:
        # An award snapshot from before refunded quantities were kept: rebuild them from the
        # refunds already applied, so the next refund continues the cumulative total.
        snapshot = dict(order.facts)
        for event in events:
            if event.kind == "refund" and event.applied_at is not None:
                applied = RefundFacts.from_json(
                    event.source_id, order.shopify_order_id, event.facts
                )
                snapshot = EligibleAmounts.with_refund(snapshot, applied)
        order.facts = {"refunded": {}, "refunded_shipping": "0", **snapshot}
    for event in events:
        if event.applied_at is not None or event.kind not in ("refund", "cancelled"):
            continue
        if order.award_status == "awarded" and customer is not None:
            if event.kind == "refund":
                refund = RefundFacts.from_json(event.source_id, order.shopify_order_id, event.facts)
                _reverse_for_refund(session, shop, program, order, customer, refund, now)
            else:
                _reverse_for_cancellation(session, shop, program, order, customer, now)
        event.applied_at = now


def _award(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer | None,
    trigger: OrderEvent,
    now: datetime,
) -> None:
    facts = _facts_from_json(order.shopify_order_id, trigger.facts)
    trigger.applied_at = now
    if facts.is_test:
        order.award_status, order.award_note = "none", "test order"
        return
    if customer is None:
        order.award_status, order.award_note = "none", "no customer on the order"
        return
    if customer.redacted_at is not None:
        order.award_status, order.award_note = "none", "customer data was erased"
        return
    if not customer.is_member:
        if not program.auto_enroll:
            order.award_status, order.award_note = "none", "customer is not a member"
            return
        customer.is_member = True
        customer.member_since = now
    amounts = eligible_amounts(
        facts, include_shipping=program.include_shipping, include_tax=program.include_tax
    )
    tier = program.tier_for(customer.tier_points)
    points = award_points(amounts.total, program.earn_rate, tier.multiplier)
    pending = points if program.pending_days > 0 else 0
    order.facts = amounts.to_json()
    order.eligible_amount = amounts.total
    order.earn_rate = program.earn_rate
    order.multiplier = tier.multiplier
    order.awarded_points = points
    order.awarded_at = now
    order.award_status = "awarded"
    order.pending_remaining = pending
    order.available_at = now + timedelta(days=program.pending_days) if pending else None
    append(
        session,
        shop,
        program,
        customer,
        Change(
            kind="order_award",
            source="order",
            key=f"order:{order.shopify_order_id}:award",
            points=points - pending,
            pending=pending,
            tier=points,
            tier_counted_at=now,
            shopify_order_id=order.shopify_order_id,
            details={
                "order_name": facts.name,
                "eligible_amount": str(amounts.total),
                "currency": shop.currency,
                "earn_rate": str(program.earn_rate),
                "tier": tier.key,
                "multiplier": str(tier.multiplier),
                "pending_days": program.pending_days,
                "channel": "pos" if facts.is_pos else (facts.source_name or "web"),
            },
        ),
        now,
    )


def _reversal(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer,
    target: int,
    change_kind: str,
    source: str,
    key: str,
    source_ref: str | None,
    details: dict[str, Any],
    now: datetime,
) -> None:
    delta = max(target - order.reversed_points, 0)
    from_pending, from_available = split_reversal(delta, order.pending_remaining)
    order.reversed_points += delta
    order.pending_remaining -= from_pending
    append(
        session,
        shop,
        program,
        customer,
        Change(
            kind=change_kind,
            source=source,
            key=key,
            points=-from_available,
            pending=-from_pending,
            tier=-delta,
            tier_counted_at=order.awarded_at,
            shopify_order_id=order.shopify_order_id,
            source_ref=source_ref,
            details={
                **details,
                "order_name": order.name,
                "awarded_points": order.awarded_points,
                "reversed_total": order.reversed_points,
                "earn_rate": str(order.earn_rate),
                "multiplier": str(order.multiplier),
            },
        ),
        now,
    )


def _reverse_for_refund(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer,
    refund: RefundFacts,
    now: datetime,
) -> None:
    if order.facts is None:
        raise LedgerError("an awarded order must carry its eligible amounts")
    amounts = EligibleAmounts.from_json(order.facts)
    # The refunded share is computed from cumulative refunded *quantities*, in exact decimals,
    # never by adding rounded amounts: once every unit is back, it is the eligible amount exactly
    # and the reversal is exactly the award.
    before = amounts.refunded_total(order.facts)
    refunded_facts = amounts.with_refund(order.facts, refund)
    after = amounts.refunded_total(refunded_facts)
    order.facts = refunded_facts
    order.refunded_eligible = after.quantize(CENT)
    target = cumulative_reversal(order.awarded_points, amounts.total, after)
    _reversal(
        session,
        shop,
        program,
        order,
        customer,
        target,
        "refund_reversal",
        "refund",
        f"refund:{refund.refund_id}",
        str(refund.refund_id),
        {
            "refunded_eligible": str((after - before).quantize(CENT)),
            "refunded_eligible_total": str(order.refunded_eligible),
            "eligible_amount": str(amounts.total),
        },
        now,
    )


def _reverse_for_cancellation(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer,
    now: datetime,
) -> None:
    _reversal(
        session,
        shop,
        program,
        order,
        customer,
        order.awarded_points,
        "cancellation_reversal",
        "cancellation",
        f"order:{order.shopify_order_id}:cancel",
        None,
        {},
        now,
    )


# --- merchant and shopper actions ----------------------------------------------------------


def adjust_points(
    session: Session,
    shop: Shop,
    customer_id: int,
    points: int,
    reason: str,
    actor: str,
    key: str,
    now: datetime,
) -> LedgerEntry:
    """A manual adjustment by the merchant. ``key`` makes a resubmitted form count once."""
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        raise LedgerError("points must be a whole number other than 0")
    if abs(points) > 10_000_000:
        raise LedgerError("points must be at most 10,000,000 either way")
    if not reason or not reason.strip():
        raise LedgerError("a reason is required")
    customer = _lock_customer_by_pk(session, shop, customer_id)
    existing = _entry_by_key(session, shop, f"adjust:{key}")
    if existing is not None:
        if (existing.customer_id, existing.points) != (customer.id, points):
            raise LedgerError("this idempotency key was already used for another adjustment")
        return existing
    return append(
        session,
        shop,
        program_of(shop),
        customer,
        Change(
            kind="adjustment",
            source="adjustment",
            key=f"adjust:{key}",
            points=points,
            reason=reason.strip()[:1000],
            actor=actor,
        ),
        now,
    )


def join_program(
    session: Session, shop: Shop, facts: CustomerFacts, consent: bool | None, now: datetime
) -> Customer:
    """Make the customer a member, record consent, and pay the welcome bonus once."""
    program = program_of(shop)
    # Joining is the shopper's own new choice: it lifts an earlier erasure's suppression.
    session.execute(
        delete(RedactedCustomer).where(
            RedactedCustomer.shop_id == shop.id,
            RedactedCustomer.customer_key == suppression_key(shop.id, facts.shopify_id),
        )
    )
    customer = lock_customer(session, shop, facts, now, honour_redaction=False)
    assert customer is not None
    if not customer.is_member:
        customer.is_member = True
        customer.member_since = now
    if consent is not None:
        customer.marketing_consent = consent
        customer.consent_updated_at = now
    if program.welcome_bonus > 0 and _entry_by_key(session, shop, f"welcome:{customer.id}") is None:
        append(
            session,
            shop,
            program,
            customer,
            Change(
                kind="welcome_bonus",
                source="welcome",
                key=f"welcome:{customer.id}",
                points=program.welcome_bonus,
            ),
            now,
        )
    return customer


def _entry_by_key(session: Session, shop: Shop, key: str) -> LedgerEntry | None:
    entry: LedgerEntry | None = session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.shop_id == shop.id, LedgerEntry.idempotency_key == key
        )
    ).one_or_none()
    return entry


# --- time-driven jobs ----------------------------------------------------------------------


def release_pending_points(session: Session, shop: Shop, now: datetime) -> int:
    """Make pending points available once their order's pending period is over.

    Every due order is locked first (in id order), then the customers one by one: the ledger's
    lock order (orders before customers), so a webhook settling one of these orders meanwhile
    waits for the job instead of deadlocking with it.
    """
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
        customer = _lock_customer_by_pk(session, shop, order.customer_id)
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
        customer = _lock_customer_by_pk(session, shop, customer_pk)
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
        customer = _lock_customer_by_pk(session, shop, customer_pk)
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


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    shop_domain: str
    customer_id: int
    field: str
    projected: int
    ledger: int


def verify_ledger(session: Session, shops: Iterable[Shop]) -> list[Mismatch]:
    """Re-sum every customer's entries and compare with the stored projections (tier points:
    the entries counted since the customer's ``tier_counted_since``, where the daily job left
    it, so the answer does not depend on when the job last ran)."""
    problems: list[Mismatch] = []
    for shop in shops:
        program = program_of(shop)
        counted = or_(
            Customer.tier_counted_since.is_(None),
            LedgerEntry.tier_counted_at >= Customer.tier_counted_since,
        )
        sums = {
            row[0]: row[1:]
            for row in session.execute(
                select(
                    LedgerEntry.customer_id,
                    func.coalesce(func.sum(LedgerEntry.points), 0),
                    func.coalesce(func.sum(LedgerEntry.pending_points), 0),
                    func.coalesce(func.sum(LedgerEntry.tier_points).filter(counted), 0),
                )
                .join(Customer, Customer.id == LedgerEntry.customer_id)
                .where(LedgerEntry.shop_id == shop.id)
                .group_by(LedgerEntry.customer_id)
            ).all()
        }
        customers = session.execute(
            select(
                Customer.id,
                Customer.points_balance,
                Customer.pending_points,
                Customer.tier_points,
                Customer.tier_key,
            ).where(Customer.shop_id == shop.id)
        ).all()
        for pk, balance, pending, tier_points, tier_key in customers:
            s_points, s_pending, s_tier = (int(x) for x in sums.get(pk, (0, 0, 0)))
            for name, projected, actual in (
                ("points_balance", balance, s_points),
                ("pending_points", pending, s_pending),
                ("tier_points", tier_points, s_tier),
            ):
                if projected != actual:
                    problems.append(Mismatch(shop.domain, pk, name, projected, actual))
            expected_key = program.tier_for(s_tier).key
            if tier_key is not None and tier_key != expected_key:
                problems.append(Mismatch(shop.domain, pk, "tier_key", 0, 0))
    return problems

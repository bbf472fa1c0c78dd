"""Awards and reversals: the points an order earns, and what refunds and cancellations take back.

Every reversal is cumulative: the order's snapshot (``loyalty.settlement``) says which eligible
amount stands reversed, ``cumulative_reversal`` turns it into the points reversed in all, and
the entry is the difference from what earlier entries reversed. A step that moves no points
writes no entry (the event is still recorded on the order's events).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..loyalty.orders import CENT, ZERO, OrderFacts, RefundFacts
from ..loyalty.points import award_points, cumulative_reversal, split_reversal
from ..loyalty.program import ProgramSettings, Tier
from ..loyalty.settlement import OrderSnapshot
from ..models import Customer, Order, Shop
from .entries import Change, LedgerError, append, entry_by_key
from .tiers import tier_at


def award_order(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer | None,
    facts: OrderFacts,
    now: datetime,
) -> None:
    """Award the order from its paying payload's ``facts`` (the trigger event's)."""
    if facts.is_test:
        order.award_status, order.award_note = "none", "test order"
        return
    if customer is None:
        order.award_status, order.award_note = "none", "no customer on the order"
        return
    if customer.redacted_at is not None:
        order.award_status, order.award_note = "none", "customer data was erased"
        return
    order.customer_id = customer.id
    if not customer.is_member:
        if not program.auto_enroll:
            order.award_status, order.award_note = "none", "customer is not a member"
            return
        customer.is_member = True
        customer.member_since = now
        pay_welcome_bonus(session, shop, program, customer, now)
    processed_at = facts.processed_at or now
    order.processed_at = processed_at
    tier = tier_at(session, shop, program, customer, processed_at)
    fields, change = plan_award(program, facts, tier, shop.currency, now)
    for name, value in fields.items():
        setattr(order, name, value)
    append(session, shop, program, customer, change, now)


def award_snapshot(program: ProgramSettings, facts: OrderFacts) -> OrderSnapshot:
    """The snapshot an award is taken from (kept with the order as ``facts``)."""
    return OrderSnapshot.of(
        facts, include_shipping=program.include_shipping, include_tax=program.include_tax
    )


def plan_award(
    program: ProgramSettings,
    facts: OrderFacts,
    tier: Tier,
    currency: str,
    now: datetime,
    snapshot: OrderSnapshot | None = None,
) -> tuple[dict[str, Any], Change]:
    """The awarded order's fields and its award entry, for the paying payload's ``facts`` at
    ``tier``: computed once here, for ``award_order`` and for the express lane (``express``),
    which passes the ``award_snapshot`` it goes on to settle."""
    if snapshot is None:
        snapshot = award_snapshot(program, facts)
    processed_at = facts.processed_at or now
    points = award_points(snapshot.eligible, program.earn_rate, tier.multiplier)
    pending = points if program.pending_days > 0 else 0
    eligible = snapshot.eligible.quantize(CENT)
    fields: dict[str, Any] = {
        "processed_at": processed_at,
        "facts": snapshot.to_json(),
        "eligible_amount": eligible,
        "earn_rate": program.earn_rate,
        "multiplier": tier.multiplier,
        "awarded_points": points,
        "awarded_at": now,
        "award_status": "awarded",
        "pending_remaining": pending,
        "available_at": now + timedelta(days=program.pending_days) if pending else None,
    }
    change = Change(
        kind="order_award",
        source="order",
        key=f"order:{facts.order_id}:award",
        points=points - pending,
        pending=pending,
        tier=points,
        tier_counted_at=now,
        processed_at=processed_at,
        shopify_order_id=facts.order_id,
        details={
            "order_name": facts.name,
            "eligible_amount": str(eligible),
            "currency": currency,
            "earn_rate": str(program.earn_rate),
            "tier": tier.key,
            "multiplier": str(tier.multiplier),
            "pending_days": program.pending_days,
            "channel": "pos" if facts.is_pos else (facts.source_name or "web"),
        },
    )
    return fields, change


def pay_welcome_bonus(
    session: Session, shop: Shop, program: ProgramSettings, customer: Customer, now: datetime
) -> None:
    """The welcome bonus, once per customer whichever way membership starts (same key)."""
    key = f"welcome:{customer.id}"
    if program.welcome_bonus <= 0 or entry_by_key(session, shop, key) is not None:
        return
    append(
        session,
        shop,
        program,
        customer,
        Change(kind="welcome_bonus", source="welcome", key=key, points=program.welcome_bonus),
        now,
    )


def snapshot_of(order: Order) -> OrderSnapshot:
    if order.facts is None:
        raise LedgerError("an awarded order must carry its eligible amounts")
    return OrderSnapshot.from_json(order.facts)


def reverse_to_snapshot(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer,
    snapshot: OrderSnapshot,
    *,
    kind: str,
    source: str,
    key: str,
    source_ref: str | None,
    details: dict[str, Any],
    now: datetime,
    processed_at: datetime | None = None,
    award_grew: bool = False,
) -> None:
    """Store ``snapshot`` on the order and reverse whatever it newly calls for.

    ``award_grew``: lines were just added to the award, so the refunded share of it shrank and
    the points already reversed may exceed the new target; the excess is given back, so the
    order ends at the same points whether its refunds arrived before or after the addition.
    """
    before = snapshot_of(order).reversed_eligible(
        amount_refunds_reverse=program.amount_refunds_reverse_points
    )
    after = snapshot.reversed_eligible(amount_refunds_reverse=program.amount_refunds_reverse_points)
    order.facts = snapshot.to_json()
    order.refunded_eligible = max(after, before).quantize(CENT)
    target = cumulative_reversal(order.awarded_points, snapshot.eligible, after)
    _reversal(
        session,
        shop,
        program,
        order,
        customer,
        target,
        kind,
        source,
        key,
        source_ref,
        {
            **details,
            "refunded_eligible": str(max(after - before, ZERO).quantize(CENT)),
            "refunded_eligible_total": str(order.refunded_eligible),
            "eligible_amount": str(snapshot.eligible.quantize(CENT)),
        },
        now,
        processed_at or now,
        give_back=award_grew,
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
    processed_at: datetime,
    *,
    give_back: bool = False,
) -> None:
    delta = target - order.reversed_points
    if delta < 0 and not give_back:
        delta = 0  # a reversal is never undone, except when the award itself grew
    if delta == 0:
        return  # nothing moves: no entry (the event stays recorded on the order)
    if delta > 0:
        from_pending, from_available = split_reversal(delta, order.pending_remaining)
    else:
        # Points given back return to the available balance.
        from_pending, from_available = 0, delta
        details = {**details, "reason": "added lines lowered the refunded share of the award"}
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
            processed_at=processed_at,
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


def reverse_for_refund(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer,
    refund: RefundFacts,
    now: datetime,
) -> None:
    # The refunded share is computed from cumulative refunded *quantities* and money, in exact
    # decimals, never by adding rounded amounts: once everything is back, the reversal is
    # exactly the award.
    reverse_to_snapshot(
        session,
        shop,
        program,
        order,
        customer,
        snapshot_of(order).with_refund(refund),
        kind="refund_reversal",
        source="refund",
        key=f"refund:{refund.refund_id}",
        source_ref=str(refund.refund_id),
        details={"refunded_by_amount": str(refund.amount)} if refund.amount else {},
        now=now,
        processed_at=refund.processed_at,
    )


def reverse_for_cancellation(
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
        now,
    )

"""Awards and reversals: the points an order earns, and what refunds and cancellations take back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..loyalty.orders import (
    CENT,
    EligibleAmounts,
    RefundFacts,
    eligible_amounts,
)
from ..loyalty.points import award_points, cumulative_reversal, split_reversal
from ..loyalty.program import ProgramSettings
from ..models import Customer, Order, OrderEvent, Shop
from .entries import Change, LedgerError, append
from .facts import facts_from_json


def award_order(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    order: Order,
    customer: Customer | None,
    trigger: OrderEvent,
    now: datetime,
) -> None:
    facts = facts_from_json(order.shopify_order_id, trigger.facts)
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


def reverse_for_refund(
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
    )

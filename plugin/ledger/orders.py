"""Recording order events once each, and settling an order: whatever they call for is appended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import insert_for
from ..loyalty.orders import (
    EligibleAmounts,
    OrderFacts,
    RefundFacts,
)
from ..loyalty.payment_names import checkout_name_for_gateway
from ..models import Customer, Order, OrderEvent, Shop
from .awards import award_order, reverse_for_cancellation, reverse_for_refund
from .entries import program_of
from .facts import facts_json
from .locks import lock_customer, lock_customer_by_pk, lock_order

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
        _record_event(session, shop, facts.order_id, event, facts.order_id, facts_json(facts), now)
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
    # The name checkout shows for it (what preferences and analytics compare).
    order.payment_method_name = (
        checkout_name_for_gateway(facts.payment_gateway) or order.payment_method_name
    )
    ship = facts.shipping[0] if facts.shipping else None
    if ship is not None:
        order.delivery_title = ship.title
        order.delivery_code = ship.code
        order.delivery_kind = ship.kind
    elif facts.is_pos:
        order.delivery_kind = "pos"


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
                customer = lock_customer_by_pk(session, shop, order.customer_id)
            award_order(session, shop, program, order, customer, trigger, now)
    if order.award_status == "waiting":
        return  # refunds and cancellations wait for the award
    if customer is None and order.customer_id is not None and order.award_status == "awarded":
        customer = lock_customer_by_pk(session, shop, order.customer_id)
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
                reverse_for_refund(session, shop, program, order, customer, refund, now)
            else:
                reverse_for_cancellation(session, shop, program, order, customer, now)
        event.applied_at = now

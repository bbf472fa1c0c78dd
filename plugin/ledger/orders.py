"""Recording order events once each, and settling an order: whatever they call for is appended.

Events: ``paid``, ``fulfilled``, ``cancelled``, ``refund`` and ``seen`` (any other order payload:
``orders/create``, ``orders/updated``, ``orders/edited``'s follow-up). Settling picks the award's
trigger — the paying payload, which also decides who earns — then applies every event not yet
applied, in arrival order: refunds, contents (edits, exchanges), the cancellation. Each step
depends only on the set of events applied so far (cumulative totals, maxima), so every
interleaving and duplication of an order's deliveries ends in the same points.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import insert_for
from ..loyalty.edits import OrderEditFacts
from ..loyalty.orders import PAID_STATUSES, CustomerFacts, OrderFacts, RefundFacts
from ..loyalty.payment_names import checkout_name_for_gateway
from ..loyalty.program import ProgramSettings
from ..loyalty.settlement import OrderSnapshot
from ..models import Customer, Order, OrderEvent, Shop
from .awards import award_order, reverse_for_cancellation, reverse_for_refund
from .edits import apply_contents, apply_edit
from .entries import program_of
from .facts import facts_from_json, facts_json
from .locks import lock_customer, lock_customer_by_pk, lock_order
from .tiers import correct_later_awards, lock_later_orders

ORDER_EVENT_KINDS = ("paid", "fulfilled", "cancelled")
CONTENT_KINDS = ("seen", "paid", "fulfilled")


def record_order(
    session: Session, shop: Shop, facts: OrderFacts, event: str | None, now: datetime
) -> Order:
    """Record what an order payload says, note ``event`` (paid/fulfilled/cancelled) once, settle.

    ``event`` is None for orders/create, orders/updated and orders/edited: the payload is kept
    as a ``seen`` event (its contents count once the order is awarded: edits, exchanges).
    """
    # One flush at commit instead of one per statement: the hot path of every delivery.
    with session.no_autoflush:
        return _record_order(session, shop, facts, event, now)


def _record_order(
    session: Session, shop: Shop, facts: OrderFacts, event: str | None, now: datetime
) -> Order:
    order = lock_order(session, shop, facts.order_id, now)
    _remember_order(order, facts)
    kept = facts_json(facts)
    if event is None:
        _record_event(session, shop, facts.order_id, "seen", _content_id(kept), kept, now)
    else:
        if event not in ORDER_EVENT_KINDS:
            raise ValueError(event)
        _record_event(session, shop, facts.order_id, event, facts.order_id, kept, now)
        if event == "paid" and order.paid_at is None:
            order.paid_at = now
        elif event == "fulfilled" and order.fulfilled_at is None:
            order.fulfilled_at = now
        elif event == "cancelled" and order.cancelled_at is None:
            order.cancelled_at = now
    was_awarded = order.award_status == "awarded"
    # Settling locks what it needs (later orders, then the customer) in the ledger's order.
    settle_order(session, shop, order, now)
    # The order's customer follows the latest payload until it is awarded (the award itself
    # goes to the paying payload's customer, see settle_order); once awarded, a payload naming
    # another customer (the merchant edited the order) moves nothing.
    if facts.customer is not None and not was_awarded:
        customer = lock_customer(session, shop, facts.customer, now)
        if customer is not None and order.award_status == "waiting":
            order.customer_id = customer.id
        if customer is not None and event in ("paid", "fulfilled"):
            customer.last_order_at = max(customer.last_order_at or now, now)
    order.updated_at = now
    return order


def _content_id(kept: dict[str, Any]) -> int:
    """A ``seen`` event's source id: the same contents are kept once, new contents again."""
    digest = hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1 or 1


def record_refund(session: Session, shop: Shop, refund: RefundFacts, now: datetime) -> Order:
    order = lock_order(session, shop, refund.order_id, now)
    _record_event(session, shop, refund.order_id, "refund", refund.refund_id, refund.to_json(), now)
    settle_order(session, shop, order, now)
    order.updated_at = now
    return order


def record_order_edit(session: Session, shop: Shop, edit: OrderEditFacts, now: datetime) -> Order:
    """``orders/edited``: the units each edit removed (its additions carry no prices; the
    ``orders/updated`` Shopify sends with it brings them)."""
    order = lock_order(session, shop, edit.order_id, now)
    _record_event(session, shop, edit.order_id, "edited", edit.edit_id, edit.to_json(), now)
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
    for name, value in remembered_fields(facts).items():
        setattr(order, name, value)


def remembered_fields(facts: OrderFacts) -> dict[str, Any]:
    """What an order payload updates on the order row (a field it leaves out keeps its value)."""
    fields: dict[str, Any] = {"is_test": facts.is_test}
    if facts.name:
        fields["name"] = facts.name
    if facts.source_name:
        fields["source_name"] = facts.source_name
    if facts.currency:
        fields["currency"] = facts.currency
    if facts.total_price is not None:
        fields["total_price"] = facts.total_price
    if facts.payment_gateway:
        fields["payment_gateway"] = facts.payment_gateway
    # The name checkout shows for it (what preferences and analytics compare).
    method = checkout_name_for_gateway(facts.payment_gateway)
    if method:
        fields["payment_method_name"] = method
    ship = facts.shipping[0] if facts.shipping else None
    if ship is not None:
        fields["delivery_title"] = ship.title
        fields["delivery_code"] = ship.code
        fields["delivery_kind"] = ship.kind
    elif facts.is_pos:
        fields["delivery_kind"] = "pos"
    return fields


def award_trigger(program: ProgramSettings, events: list[OrderEvent]) -> OrderEvent | None:
    """The event whose payload the award is made from, or None while the order may not earn.

    Only orders paid in full earn. On payment: the first ``orders/paid`` (Shopify sends it only
    once the order is paid in full). On fulfilment: once the order is fulfilled and some
    payload said it is paid in full (``orders/paid``, or ``financial_status`` ``paid`` /
    ``partially_refunded`` on any order payload), the one of those two that came later — the
    latest payload before the award. A payload that does not say its financial status never
    counts as paid; a partially paid order waits until it is paid in full.
    """
    paid = next((e for e in events if e.kind == "paid"), None)
    if program.award_on == "paid":
        return paid
    fulfilled = next((e for e in events if e.kind == "fulfilled"), None)
    paid_in_full = next(
        (
            e
            for e in events
            if e.kind == "paid"
            or (e.kind in CONTENT_KINDS and e.facts.get("financial_status") in PAID_STATUSES)
        ),
        None,
    )
    if fulfilled is None or paid_in_full is None:
        return None
    return fulfilled if fulfilled.id >= paid_in_full.id else paid_in_full


def _award_customer(
    session: Session, shop: Shop, order: Order, trigger: OrderEvent, now: datetime
) -> Customer | None:
    raw = trigger.facts.get("customer", "absent")
    if raw == "absent":  # an event kept before the paying customer was: the order's customer
        if order.customer_id is None:
            return None
        return lock_customer_by_pk(session, shop, order.customer_id)
    if not raw:
        return None
    return lock_customer(session, shop, CustomerFacts(int(raw[0]), *raw[1:4]), now)


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
    later: list[Order] = []
    if order.award_status == "waiting":
        trigger = award_trigger(program, events)
        if trigger is None:
            return  # refunds, edits and cancellations wait for the award
        facts = facts_from_json(order.shopify_order_id, trigger.facts)
        later = _lock_later(
            session,
            shop,
            order,
            _trigger_customer_pk(session, shop, order, trigger),
            facts.processed_at or now,
        )
        customer = _award_customer(session, shop, order, trigger, now)
        award_order(session, shop, program, order, customer, facts, now)
    elif order.award_status == "awarded" and order.customer_id is not None:
        pending = [e for e in events if e.applied_at is None]
        if not pending:
            return
        moments = [_event_moment(e) for e in pending if e.kind == "refund"]
        moment = min([m for m in moments if m is not None] or [now])
        later = _lock_later(session, shop, order, order.customer_id, moment)
    if order.award_status != "awarded" or order.customer_id is None:
        # Nothing to reverse: no award, or the customer was erased (customers/redact).
        for event in events:
            event.applied_at = event.applied_at or now
        return
    if customer is None or customer.id != order.customer_id:
        customer = lock_customer_by_pk(session, shop, order.customer_id)
    if order.facts and "refunded" not in order.facts:
        _rebuild_legacy_snapshot(order, events)
    for event in events:
        if event.applied_at is not None:
            continue
        event.applied_at = now
        if event.kind == "refund":
            refund = RefundFacts.from_json(event.source_id, order.shopify_order_id, event.facts)
            reverse_for_refund(session, shop, program, order, customer, refund, now)
        elif event.kind == "cancelled":
            reverse_for_cancellation(session, shop, program, order, customer, now)
        elif event.kind == "edited" and order.cancelled_at is None:
            edit = OrderEditFacts.from_json(event.source_id, order.shopify_order_id, event.facts)
            apply_edit(session, shop, program, order, customer, edit, now)
        elif event.kind in CONTENT_KINDS and order.cancelled_at is None:
            facts = facts_from_json(order.shopify_order_id, event.facts)
            apply_contents(session, shop, program, order, customer, facts, event.source_id, now)
    if later:
        correct_later_awards(session, shop, program, customer, later, now)


def _event_moment(event: OrderEvent) -> datetime | None:
    raw = event.facts.get("processed_at")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def _trigger_customer_pk(
    session: Session, shop: Shop, order: Order, trigger: OrderEvent
) -> int | None:
    raw = trigger.facts.get("customer", "absent")
    if raw == "absent":
        return order.customer_id
    if not raw:
        return None
    pk: int | None = session.scalar(
        select(Customer.id).where(
            Customer.shop_id == shop.id, Customer.shopify_customer_id == int(raw[0])
        )
    )
    return pk


def _lock_later(
    session: Session, shop: Shop, order: Order, customer_pk: int | None, moment: datetime
) -> list[Order]:
    """The customer's orders processed after ``moment``, locked before the customer is."""
    if customer_pk is None:
        return []
    return lock_later_orders(session, shop, customer_pk, moment, exclude=order.id)


def _rebuild_legacy_snapshot(order: Order, events: list[OrderEvent]) -> None:
    """An award snapshot from before refunded quantities were kept: rebuild them from the
    refunds already applied, so the next refund continues the cumulative total."""
    assert order.facts is not None
    snapshot = OrderSnapshot.from_json(order.facts)
    for event in events:
        if event.kind == "refund" and event.applied_at is not None:
            applied = RefundFacts.from_json(event.source_id, order.shopify_order_id, event.facts)
            snapshot = snapshot.with_refund(applied)
    order.facts = snapshot.to_json()

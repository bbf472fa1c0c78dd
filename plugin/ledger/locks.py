"""Locking (or creating) the rows every writer works on: the shop's row held, then the order,
then the customer."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..db import insert_for
from ..loyalty.orders import (
    CustomerFacts,
)
from ..models import Customer, Order, RedactedCustomer, Shop
from .entries import ZERO, LedgerError


def _locked(session: Session, stmt: Select[Any]) -> Any:
    if session.dirty or session.new:
        # populate_existing would overwrite unflushed changes to a row already in the session.
        session.flush()
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


_HELD = "kanta.held_shop"


def hold_shop(session: Session, shop: Shop) -> None:
    """Hold the shop's row until the commit (``FOR KEY SHARE`` on PostgreSQL; SQLite serialises
    writers), as a foreign key to it would: shop/redact, which locks it ``FOR UPDATE``, then waits
    for this transaction's rows before it deletes the shop's. Every lock below takes it first
    (once per transaction), so no writer can hold an order or a customer while it waits for the
    shop — the other way round from shop/redact, a deadlock. ``LedgerError`` if the shop was
    deleted meanwhile."""
    if session.info.get(_HELD) == shop.id:
        return
    held = session.execute(
        select(Shop.id).where(Shop.id == shop.id).with_for_update(read=True, key_share=True)
    ).first()
    if held is None:
        raise LedgerError("the shop has been deleted")
    session.info[_HELD] = shop.id


def shop_held(session: Session, shop: Shop) -> None:
    """Record that this transaction already holds the shop's row (the intake reads it
    ``FOR KEY SHARE``), so the locks below do not take it again."""
    session.info[_HELD] = shop.id


def lock_order(session: Session, shop: Shop, shopify_order_id: int, now: datetime) -> Order:
    hold_shop(session, shop)
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
    hold_shop(session, shop)
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


def lock_customer_by_pk(session: Session, shop: Shop, customer_id: int) -> Customer:
    hold_shop(session, shop)
    customer: Customer | None = _locked(
        session,
        select(Customer).where(Customer.shop_id == shop.id, Customer.id == customer_id),
    )
    if customer is None:
        raise LedgerError("no such customer in this shop")
    return customer

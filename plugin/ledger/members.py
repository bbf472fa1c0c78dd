"""Merchant and shopper actions: manual adjustments, joining the program (welcome bonus)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ..loyalty.orders import (
    CustomerFacts,
)
from ..models import Customer, LedgerEntry, RedactedCustomer, Shop
from .awards import pay_welcome_bonus
from .entries import Change, LedgerError, append, entry_by_key, program_of
from .locks import hold_shop, lock_customer, lock_customer_by_pk, suppression_key


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
    customer = lock_customer_by_pk(session, shop, customer_id)
    existing = entry_by_key(session, shop, f"adjust:{key}")
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
    # The shop first, before the erasure's row below: shop/redact deletes that table too.
    hold_shop(session, shop)
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
    pay_welcome_bonus(session, shop, program, customer, now)
    return customer

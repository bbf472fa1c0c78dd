"""Appending to the ledger: one entry, and the customer's projections moved with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..loyalty.program import ProgramSettings
from ..models import Customer, LedgerEntry, Shop

ZERO = Decimal("0")


class LedgerError(ValueError):
    """A request the ledger refuses (bad adjustment, unknown customer...)."""


def program_of(shop: Shop) -> ProgramSettings:
    return ProgramSettings.from_dict(shop.program)


class Projections(Protocol):
    """What ``move_projections`` moves: a ``Customer`` row, or the express lane's copy of one."""

    points_balance: int
    pending_points: int
    tier_points: int
    tier_key: str | None
    tier_counted_since: datetime | None
    last_activity_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Change:
    kind: str
    source: str
    key: str
    points: int = 0
    pending: int = 0
    tier: int = 0
    tier_counted_at: datetime | None = None
    processed_at: datetime | None = None
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
        processed_at=change.processed_at,
        shopify_order_id=change.shopify_order_id,
        source_ref=change.source_ref,
        details=change.details or {},
        reason=change.reason,
        actor=change.actor,
        created_at=now,
    )
    session.add(entry)
    move_projections(program, customer, change, now)
    return entry


def move_projections(
    program: ProgramSettings, customer: Projections, change: Change, now: datetime
) -> None:
    """The customer's projections after ``change``: the one place they are computed (the
    express lane moves a plain copy of the row with it, ``express``)."""
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


def entry_by_key(session: Session, shop: Shop, key: str) -> LedgerEntry | None:
    entry: LedgerEntry | None = session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.shop_id == shop.id, LedgerEntry.idempotency_key == key
        )
    ).one_or_none()
    return entry

"""Verification: re-sum the ledger and compare with the stored projections."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..models import Customer, LedgerEntry, Shop
from .entries import program_of


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

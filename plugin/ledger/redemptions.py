"""Redemptions: points reserved for a reward, and given back when Shopify does not issue it.

A redemption is two steps around one Shopify call, so that a crash or a timeout at any point
leaves the ledger right:

1. ``reserve_points`` (one transaction): the ``redemption`` entry takes the points and the
   ``redemptions`` row records what is owed (status ``reserved``). Both are keyed by the shop
   and the shopper's ``Idempotency-Key``: a replay finds them and takes nothing again.
2. After that commits, the caller asks Shopify for the reward, then records the outcome:
   ``mark_issued``; ``refund_points`` (Shopify refused it: a ``redemption_refund`` entry gives
   the points back, saying why); or ``mark_unknown`` (no answer: the reconcile job looks the
   reward up and settles it as one or the other, never both).

Lock order: the shop's row, the customer's (the ledger's), then the redemption's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..loyalty.rewards import RewardOffer
from ..models import Customer, Redemption, Shop
from .entries import Change, LedgerError, append, entry_by_key, program_of
from .locks import lock_customer_by_pk


class NotEnoughPoints(LedgerError):
    def __init__(self, balance: int, cost: int) -> None:
        super().__init__(f"not enough points: {balance} available, {cost} needed")
        self.balance, self.cost = balance, cost


class KeyReused(LedgerError):
    """The Idempotency-Key was already used for another customer or reward."""


def redemption_by_key(session: Session, shop: Shop, key: str) -> Redemption | None:
    found: Redemption | None = session.scalars(
        select(Redemption).where(Redemption.shop_id == shop.id, Redemption.idempotency_key == key)
    ).one_or_none()
    return found


def _lock_redemption(session: Session, shop: Shop, redemption_id: int) -> Redemption:
    found: Redemption | None = session.scalars(
        select(Redemption)
        .where(Redemption.shop_id == shop.id, Redemption.id == redemption_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None:
        raise LedgerError("no such redemption in this shop")
    return found


def reserve_points(
    session: Session,
    shop: Shop,
    customer: Customer,
    reward: RewardOffer,
    key: str,
    *,
    code: str | None,
    now: datetime,
) -> tuple[Redemption, bool]:
    """Take the reward's points and record the redemption; (redemption, created now?).

    A replay of ``key`` by the same customer for the same reward returns the first redemption
    and takes nothing; the same key for anything else raises ``KeyReused``."""
    customer = lock_customer_by_pk(session, shop, customer.id)
    existing = redemption_by_key(session, shop, key)
    if existing is not None:
        if (existing.customer_id, existing.reward_id) != (customer.id, reward.id):
            raise KeyReused("this Idempotency-Key was already used for another redemption")
        return existing, False
    if customer.points_balance < reward.points_cost:
        raise NotEnoughPoints(customer.points_balance, reward.points_cost)
    redemption = Redemption(
        shop_id=shop.id,
        customer_id=customer.id,
        reward_id=reward.id,
        idempotency_key=key,
        points_cost=reward.points_cost,
        status="reserved",
        reward_type=reward.kind,
        amount=reward.value,
        currency=shop.currency,
        discount_code=code,
        details={"title": reward.title},
        created_at=now,
        updated_at=now,
    )
    session.add(redemption)
    session.flush()
    append(
        session,
        shop,
        program_of(shop),
        customer,
        Change(
            kind="redemption",
            source="reward",
            key=f"redemption:{key}",
            points=-reward.points_cost,
            source_ref=str(redemption.id),
            details={"reward": reward.title, "reward_type": reward.kind},
        ),
        now,
    )
    return redemption, True


def mark_issued(
    session: Session,
    shop: Shop,
    redemption_id: int,
    now: datetime,
    *,
    shopify_discount_id: str | None = None,
    store_credit_transaction_id: str | None = None,
) -> Redemption:
    redemption = _lock_redemption(session, shop, redemption_id)
    if redemption.status == "refunded":
        # Cannot happen through this module (an unknown outcome is settled once, by lookup);
        # refuse rather than hand out a reward whose points were given back.
        raise LedgerError("this redemption was refunded; it cannot be issued")
    redemption.status = "issued"
    if shopify_discount_id:
        redemption.shopify_discount_id = shopify_discount_id
    if store_credit_transaction_id:
        redemption.store_credit_transaction_id = store_credit_transaction_id
    redemption.updated_at = now
    return redemption


def mark_unknown(
    session: Session, shop: Shop, redemption_id: int, error: str, now: datetime
) -> Redemption:
    redemption = _lock_redemption(session, shop, redemption_id)
    if redemption.status == "reserved":
        redemption.status = "unknown"
        redemption.details = {**redemption.details, "unknown_because": error[:200]}
        redemption.updated_at = now
    return redemption


def refund_points(
    session: Session, shop: Shop, redemption_id: int, reason: str, now: datetime
) -> Redemption:
    """Give the points back: Shopify did not issue the reward. Idempotent."""
    owner = session.scalar(
        select(Redemption.customer_id).where(
            Redemption.shop_id == shop.id, Redemption.id == redemption_id
        )
    )
    if owner is None:
        raise LedgerError("no such redemption in this shop")
    customer = lock_customer_by_pk(session, shop, owner)  # shop, customer, redemption
    redemption = _lock_redemption(session, shop, redemption_id)
    if redemption.status == "issued":
        raise LedgerError("this redemption was issued; its points stay spent")
    key = f"redemption_refund:{redemption.id}"
    if entry_by_key(session, shop, key) is None:
        append(
            session,
            shop,
            program_of(shop),
            customer,
            Change(
                kind="redemption_refund",
                source="reward",
                key=key,
                points=redemption.points_cost,
                source_ref=str(redemption.id),
                reason=reason[:1000],
                details={"reward": redemption.details.get("title")},
            ),
            now,
        )
    redemption.status = "refunded"
    redemption.details = {**redemption.details, "refunded_because": reason[:200]}
    redemption.updated_at = now
    return redemption


def redemption_answer(redemption: Redemption, balance: int) -> dict[str, Any]:
    """What the widget receives for an issued redemption (the contract of POST /redeem)."""
    amount: Decimal = redemption.amount
    return {
        "kind": "store_credit" if redemption.reward_type == "store_credit" else "discount_code",
        "code": redemption.discount_code if redemption.reward_type != "store_credit" else None,
        "amount": str(amount),
        "currency": redemption.currency,
        "points": balance,
        "redemption_id": str(redemption.id),
    }

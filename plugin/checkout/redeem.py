"""``redeem_reward``: points → a reward at Shopify, as one operation a retry can repeat safely.

1. One transaction reserves the points (``ledger.reserve_points``, keyed by the shop and the
   ``Idempotency-Key``). A replay finds the redemption and answers from it: the same code or
   credit, the points taken once.
2. After it commits, Shopify is asked for the reward, once. Issued → recorded and answered.
   Refused → the points come back with an entry that says so, and the shopper is told. No
   answer → the redemption is marked unknown and the reconcile job settles it by looking the
   reward up (never by issuing it again); the shopper is told it is being confirmed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .. import ledger
from ..install import ReauthorizationRequired, access_token_for
from ..loyalty.rewards import CODE_KINDS, RewardOffer, new_discount_code
from ..models import Customer, Redemption, Reward, Shop
from ..runtime import Kanta
from ..shopify.gateway import ShopifyError
from ..shopify.rewards import RewardOutcomeUnknown, RewardRefused, RewardRequest, issue_reward
from .auth import Shopper

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedeemAnswer:
    status: int
    body: dict[str, Any]
    customer_pk: int | None = None


def _fail(status: int, message: str, **extra: Any) -> RedeemAnswer:
    return RedeemAnswer(status, {"error": message, **extra})


def _settled_answer(redemption: Redemption, balance: int) -> RedeemAnswer:
    if redemption.status == "issued":
        return RedeemAnswer(
            200, ledger.redemption_answer(redemption, balance), redemption.customer_id
        )
    if redemption.status == "refunded":
        return RedeemAnswer(
            502,
            {
                "error": "Shopify could not issue the reward; your points were returned",
                "points": balance,
                "redemption_id": str(redemption.id),
            },
            redemption.customer_id,
        )
    return RedeemAnswer(
        409 if redemption.status == "reserved" else 503,
        {
            "error": "your reward is being confirmed; try again in a moment",
            "status": "pending",
            "redemption_id": str(redemption.id),
        },
        redemption.customer_id,
    )


def redeem_reward(
    kanta: Kanta, shopper: Shopper, shop_id: int, reward_id: int, key: str
) -> RedeemAnswer:
    if shopper.customer_id is None:
        return _fail(403, "log in to redeem points")
    now = kanta.now()
    with kanta.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        customer = session.scalars(
            select(Customer).where(
                Customer.shop_id == shop.id,
                Customer.shopify_customer_id == shopper.customer_id,
                Customer.redacted_at.is_(None),
            )
        ).one_or_none()
        if customer is None or not customer.is_member:
            return _fail(403, "join the program to redeem points")
        reward = session.scalars(
            select(Reward).where(Reward.shop_id == shop.id, Reward.id == reward_id)
        ).one_or_none()
        if reward is None or not reward.active:
            return _fail(404, "no such reward")
        offer = RewardOffer(
            reward.id, reward.title, reward.reward_type, reward.points_cost, reward.value
        )
        try:
            redemption, created = ledger.reserve_points(
                session,
                shop,
                customer,
                offer,
                key,
                code=new_discount_code() if offer.kind in CODE_KINDS else None,
                now=now,
            )
        except ledger.NotEnoughPoints as error:
            return _fail(
                422, "not enough points for this reward", points=error.balance, needed=error.cost
            )
        except ledger.KeyReused as error:
            return _fail(422, str(error))
        balance = customer.points_balance
        if not created:
            return _settled_answer(redemption, balance)
        request = RewardRequest(
            reward_type=redemption.reward_type,
            title=reward.title,
            amount=redemption.amount,
            currency=redemption.currency,
            code=redemption.discount_code,
            customer_gid=str(shopper.customer_gid),
            starts_at=now,
        )
        redemption_id, domain = redemption.id, shop.domain
    # The reservation is committed: now, and only now, ask Shopify.
    try:
        token = access_token_for(kanta, shop_id)
        issued = issue_reward(kanta.shopify, domain, token, request)
    except (RewardRefused, ReauthorizationRequired) as error:
        log.warning("redemption %s refused: %s", redemption_id, type(error).__name__)
        with kanta.db.transaction() as session:
            shop = session.get(Shop, shop_id)
            assert shop is not None
            settled = ledger.refund_points(
                session, shop, redemption_id, f"Shopify refused the reward: {error}", kanta.now()
            )
            balance = _balance(session, settled.customer_id)
            return _settled_answer(settled, balance)
    except (RewardOutcomeUnknown, ShopifyError) as error:
        log.warning("redemption %s outcome unknown: %s", redemption_id, error)
        with kanta.db.transaction() as session:
            shop = session.get(Shop, shop_id)
            assert shop is not None
            pending = ledger.mark_unknown(session, shop, redemption_id, str(error), kanta.now())
            answer = _settled_answer(pending, _balance(session, pending.customer_id))
        kanta.jobs.enqueue("reconcile_redemption", shop_id=shop_id, redemption_id=redemption_id)
        return answer
    with kanta.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        done = ledger.mark_issued(
            session,
            shop,
            redemption_id,
            kanta.now(),
            shopify_discount_id=issued.shopify_discount_id,
            store_credit_transaction_id=issued.store_credit_transaction_id,
        )
        return _settled_answer(done, _balance(session, done.customer_id))


def _balance(session: Any, customer_pk: int) -> int:
    return int(session.scalar(select(Customer.points_balance).where(Customer.id == customer_pk)))

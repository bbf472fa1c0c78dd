"""Settling redemptions whose outcome at Shopify is not known (a timeout, a 5xx, a crash
between reserving the points and recording the answer).

The reward is looked up, never created again: a code by its unique code
(``codeDiscountNodeByCode``); store credit by the customer's credit transactions of the same
amount and currency since the reservation that no other redemption of ours has claimed. Found
→ issued; not found → the points come back (``redemption_refund``). A lookup that fails leaves
the redemption as it is for the next run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from ..models import Customer, Redemption, Shop
from . import job

if TYPE_CHECKING:
    from ..runtime import Kanta

log = logging.getLogger(__name__)

# A redemption still "reserved" after this long lost its request (a crash): settle it.
STALE_RESERVATION = timedelta(minutes=10)
# Clocks differ: a store-credit transaction may carry a time a little before our reservation.
CLOCK_SLACK = timedelta(minutes=2)


@job("reconcile_redemption")
def reconcile_redemption(kanta: Kanta, shop_id: int, redemption_id: int) -> str:
    """Settle one redemption; returns its status afterwards."""
    from .. import ledger
    from ..install import access_token_for
    from ..shopify.rewards import find_discount_by_code, store_credit_transactions

    with kanta.db.read() as session:
        found = session.execute(
            select(Redemption, Shop.domain, Customer.shopify_customer_id)
            .join(Shop, Shop.id == Redemption.shop_id)
            .join(Customer, Customer.id == Redemption.customer_id)
            .where(Redemption.shop_id == shop_id, Redemption.id == redemption_id)
        ).one_or_none()
    if found is None:
        return "missing"
    redemption, domain, shopify_customer_id = found
    if redemption.status not in ("reserved", "unknown"):
        return str(redemption.status)
    token = access_token_for(kanta, shop_id)
    issued_id: str | None = None
    if redemption.reward_type == "store_credit":
        with kanta.db.read() as session:
            claimed = set(
                session.scalars(
                    select(Redemption.store_credit_transaction_id).where(
                        Redemption.shop_id == shop_id,
                        Redemption.store_credit_transaction_id.is_not(None),
                    )
                )
            )
        gid = f"gid://shopify/Customer/{shopify_customer_id}"
        since = redemption.created_at - CLOCK_SLACK
        matches = [
            t
            for t in store_credit_transactions(kanta.shopify, domain, token, gid)
            if t.id not in claimed
            and t.amount == redemption.amount
            and t.currency == redemption.currency
            and t.created_at >= since
        ]
        issued_id = matches[-1].id if matches else None  # the oldest unclaimed match
    elif redemption.discount_code:
        issued_id = find_discount_by_code(kanta.shopify, domain, token, redemption.discount_code)
    with kanta.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        if issued_id is None:
            ledger.refund_points(
                session,
                shop,
                redemption_id,
                "Shopify has no record of the reward, so the points were returned",
                kanta.now(),
            )
            settled = "refunded"
        else:
            is_credit = redemption.reward_type == "store_credit"
            ledger.mark_issued(
                session,
                shop,
                redemption_id,
                kanta.now(),
                shopify_discount_id=None if is_credit else issued_id,
                store_credit_transaction_id=issued_id if is_credit else None,
            )
            settled = "issued"
    log.info("redemption %s of shop %s reconciled: %s", redemption_id, shop_id, settled)
    return settled


@job("reconcile_redemptions")
def reconcile_redemptions(kanta: Kanta) -> int:
    """The sweep: every unknown redemption, and every reservation left behind by a crash."""
    stale = kanta.now() - STALE_RESERVATION
    with kanta.db.read() as session:
        due = session.execute(
            select(Redemption.shop_id, Redemption.id).where(
                or_(
                    Redemption.status == "unknown",
                    (Redemption.status == "reserved") & (Redemption.created_at < stale),
                )
            )
        ).all()
    settled = 0
    for shop_id, redemption_id in due:
        try:
            reconcile_redemption(kanta, shop_id=shop_id, redemption_id=redemption_id)
            settled += 1
        except Exception:  # one shop's failure must not stop the others; tried again next run
            log.exception("reconciling redemption %s of shop %s failed", redemption_id, shop_id)
    return settled

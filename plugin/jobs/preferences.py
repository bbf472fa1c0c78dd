"""After an order or a shopper's choice commits: learn the customer's usual payment method and
delivery option from their stored orders, and mirror what checkout needs into the customer's
``$app:kanta.preferences`` metafield, which the two Functions read.

Both steps are idempotent. Learning recomputes from the orders table (the last paid orders) and
rewrites the ``learned`` rows. The sync builds the compact value, compares its hash with the
last one written, and calls ``metafieldsSet`` (an upsert) only when it changed; the hash is
stored after Shopify accepted the value, so a retry after any failure writes it again at most.
Throttling is backed off inside the gateway by the bucket's own numbers; when Shopify still
cannot be reached the job logs one line and records nothing, so the next change of the
customer (or any later run of the job) writes the value.

What asks for the work is an outbox, not a message: the transaction that records a paid order or
a refund sets ``customers.sync_requested_at`` (``mark_sync_requested``; the intake's express lane
sets it in its own statement), and ``sync_requested_customers`` drains the customers marked.
The request sends nothing to a broker (that was ~0.5 ms of CPU and ~2 ms of Redis round trips
per delivery), and a worker killed between the commit and the job loses nothing. In production
Celery beat runs the drain every ``DRAIN_EVERY``; in-process, each commit nudges it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from ..db import insert_for
from ..ledger import LedgerError, hold_shop
from ..loyalty.preferences import PaidOrderChoices, PreferredCheckoutChoices, learn_choices
from ..models import Customer, CustomerMetafieldSync, CustomerPreference, Order, Shop
from . import job

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..runtime import Kanta

log = logging.getLogger(__name__)


def learn_customer_preferences(
    session: Session, shop_id: int, customer_pk: int, now: datetime
) -> None:
    """Rewrite the customer's ``learned`` rows from their last paid orders."""
    rows = session.execute(
        select(
            Order.payment_gateway, Order.delivery_title, Order.delivery_code, Order.delivery_kind
        )
        .where(
            Order.shop_id == shop_id,
            Order.customer_id == customer_pk,
            Order.paid_at.is_not(None),
            Order.is_test.is_(False),
        )
        .order_by(Order.paid_at.desc(), Order.id.desc())
        .limit(5)
    ).all()
    learned = learn_choices([PaidOrderChoices(*row) for row in rows])
    for kind, choice in (("payment", learned.payment), ("delivery", learned.delivery)):
        if choice is None:
            session.execute(
                delete(CustomerPreference).where(
                    CustomerPreference.shop_id == shop_id,
                    CustomerPreference.customer_id == customer_pk,
                    CustomerPreference.kind == kind,
                    CustomerPreference.source == "learned",
                )
            )
            continue
        session.execute(
            insert_for(session, CustomerPreference)
            .values(
                shop_id=shop_id,
                customer_id=customer_pk,
                kind=kind,
                source="learned",
                value=choice.value,
                handle=choice.handle,
                updated_at=now,
            )
            .on_conflict_do_update(
                index_elements=["shop_id", "customer_id", "kind", "source"],
                set_={"value": choice.value, "handle": choice.handle, "updated_at": now},
            )
        )


def metafield_value(customer: Customer, shop: Shop, prefs: PreferredCheckoutChoices) -> str:
    """The compact JSON the Functions read (well under Shopify's 10,000-byte guidance)."""
    from ..ledger import program_of

    tier = program_of(shop).tier_by_key(customer.tier_key) if customer.is_member else None
    value = {
        "payment_method": prefs.payment_method,
        "delivery_option": prefs.delivery_option,
        "member": customer.is_member,
        "tier": tier.name if tier else None,
        "points": customer.points_balance,
    }
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


SYNC_REQUESTED = "sync_requested_customers"
DRAIN_EVERY = timedelta(seconds=2)
DRAIN_BATCH = 500
RETRY_AFTER = timedelta(minutes=5)


def mark_sync_requested(session: Session, customer_pk: int, now: datetime) -> None:
    """In the caller's transaction: this customer's learning and metafield are due."""
    customer = session.get(Customer, customer_pk)  # loaded already by the ledger: no query
    if customer is not None:
        customer.sync_requested_at = now


@job(SYNC_REQUESTED)
def sync_requested_customers(kanta: Kanta, limit: int = DRAIN_BATCH) -> int:
    """Learn and sync every customer marked, oldest mark first; returns how many were done.

    A mark is cleared only if it is still the one read, so an order committed meanwhile keeps
    its customer waiting for the next run. A customer whose work fails is put off for
    ``RETRY_AFTER`` (the mark moves forward), so a failure that repeats can neither flood the
    log every two seconds nor hold up the customers behind it. Two drains at once may both sync
    a customer: both are idempotent, and the metafield's hash check makes the second write
    nothing."""
    now = kanta.now()
    with kanta.db.read() as session:
        due = session.execute(
            select(Customer.shop_id, Customer.id, Customer.sync_requested_at)
            .where(Customer.sync_requested_at <= now)
            .order_by(Customer.sync_requested_at)
            .limit(limit)
        ).all()
    done = 0
    for shop_id, customer_pk, mark in due:
        later: datetime | None = None
        try:
            learn_and_sync_preferences(kanta, shop_id, customer_pk)
            done += 1
        except Exception:  # one customer's failure must not stop the others
            log.exception("syncing customer %s (shop %s) failed", customer_pk, shop_id)
            later = kanta.now() + RETRY_AFTER
        with kanta.db.transaction() as session:
            session.execute(
                update(Customer)
                .where(Customer.id == customer_pk, Customer.sync_requested_at == mark)
                .values(sync_requested_at=later, updated_at=Customer.updated_at)
            )
    return done


# Still a job of its own: messages queued under this name before the outbox are still served.
@job("learn_and_sync_preferences")
def learn_and_sync_preferences(kanta: Kanta, shop_id: int, customer_pk: int) -> bool:
    """Learn from the stored orders, then sync the metafield. True if Shopify was written."""
    with kanta.db.transaction() as session:
        if not _held(session, shop_id):
            return False
        customer = session.get(Customer, customer_pk)
        if customer is None or customer.shop_id != shop_id:
            return False
        learn_customer_preferences(session, shop_id, customer_pk, kanta.now())
    return bool(sync_customer_metafield(kanta, shop_id, customer_pk))


def _held(session: Session, shop_id: int) -> bool:
    """Hold the shop's row first (``ledger.hold_shop``), as every writer does before it touches
    a customer's rows: the rows written here have foreign keys to both, and shop/redact locks
    the shop, then deletes the customers. Taken the other way round (the customer's row by a
    foreign key check, then the shop's), the two deadlocked. False if the shop is gone."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        return False
    try:
        hold_shop(session, shop)
    except LedgerError:
        return False
    return True


def _forget_cached_read(kanta: Kanta, shop_id: int, shopify_customer_id: int) -> None:
    """The widget's read of this customer is cached a few seconds per process
    (``plugin.checkout.loyalty``): a change made in this process is shown at once."""
    reader = kanta.extras.get("checkout_reader")
    if reader is not None:
        reader.forget(shop_id, shopify_customer_id)


@job("sync_customer_metafield")
def sync_customer_metafield(kanta: Kanta, shop_id: int, customer_pk: int) -> bool:
    from ..install import ReauthorizationRequired, access_token_for
    from ..shopify.gateway import ShopifyError
    from ..shopify.metafields import set_customer_preferences

    with kanta.db.read() as session:
        shop = session.get(Shop, shop_id)
        customer = session.get(Customer, customer_pk)
        if (
            shop is None
            or not shop.is_installed
            or customer is None
            or customer.shop_id != shop_id
            or customer.shopify_customer_id is None
            or customer.redacted_at is not None
        ):
            return False
        rows = session.execute(
            select(
                CustomerPreference.kind, CustomerPreference.source, CustomerPreference.value
            ).where(
                CustomerPreference.shop_id == shop_id,
                CustomerPreference.customer_id == customer_pk,
            )
        ).all()
        value = metafield_value(customer, shop, PreferredCheckoutChoices.resolve(rows))
        digest = hashlib.sha256(value.encode()).hexdigest()
        last = session.scalar(
            select(CustomerMetafieldSync.value_hash).where(
                CustomerMetafieldSync.shop_id == shop_id,
                CustomerMetafieldSync.customer_id == customer_pk,
            )
        )
        domain, gid = shop.domain, f"gid://shopify/Customer/{customer.shopify_customer_id}"
        _forget_cached_read(kanta, shop_id, customer.shopify_customer_id)
    if last == digest:
        return False
    try:
        token = access_token_for(kanta, shop_id)
        set_customer_preferences(kanta.shopify, domain, token, gid, value)
    except (ShopifyError, ReauthorizationRequired) as error:
        # Nothing was recorded as written, so the next change of this customer (or a retry of
        # this job) writes the value again. One line: Shopify being away is not a bug.
        log.warning(
            "could not sync the checkout preferences of customer %s (shop %s): %s",
            customer_pk,
            shop_id,
            getattr(error, "code", type(error).__name__),
        )
        return False
    with kanta.db.transaction() as session:
        if not _held(session, shop_id):
            return False
        session.execute(
            insert_for(session, CustomerMetafieldSync)
            .values(
                shop_id=shop_id, customer_id=customer_pk, value_hash=digest, written_at=kanta.now()
            )
            .on_conflict_do_update(
                index_elements=["shop_id", "customer_id"],
                set_={"value_hash": digest, "written_at": kanta.now()},
            )
        )
    log.info("synced the checkout preferences of customer %s (shop %s)", customer_pk, shop_id)
    return True

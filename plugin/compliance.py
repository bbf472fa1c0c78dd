"""Uninstall and the three mandatory compliance topics. All four are idempotent.

- ``app/uninstalled``: the shop is marked uninstalled and its tokens are deleted; its program and
  members stay, so reinstalling brings them back (until ``shop/redact``).
- ``shop/redact`` (48 h after uninstall): every row of the shop is deleted.
- ``customers/redact``: the customer's personal data and preferences are erased. Their ledger
  entries stay only as anonymous totals: the customer row loses its Shopify id, email and names,
  entries lose their free-text details, and their orders are unlinked from them.
- ``customers/data_request``: everything held on the customer is gathered into an export the
  merchant downloads from the admin (Shopify expects the merchant to answer the customer).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .db import insert_for
from .ledger import suppression_key
from .loyalty.orders import PayloadError
from .models import (
    BalanceImport,
    CollectionProduct,
    Customer,
    CustomerMetafieldSync,
    CustomerPreference,
    DataExport,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderLine,
    RedactedCustomer,
    Redemption,
    Reward,
    Shop,
    WebhookReceipt,
)

log = logging.getLogger(__name__)


def mark_uninstalled(
    session: Session, shop: Shop, now: datetime, *, triggered_at: datetime | None = None
) -> None:
    # A retry carries its original trigger time: an uninstall that happened before the latest
    # install must not undo that reinstall.
    latest_install = shop.last_installed_at or shop.installed_at
    if triggered_at is not None and latest_install is not None and triggered_at < latest_install:
        return
    if shop.uninstalled_at is None:
        shop.uninstalled_at = now
    shop.access_token_enc = None
    shop.access_token_expires_at = None
    shop.refresh_token_enc = None
    shop.refresh_token_expires_at = None


def redact_shop(session: Session, shop: Shop) -> None:
    """Delete every row of the shop — unless Kanta is installed on it again.

    Shopify sends ``shop/redact`` 48 hours after an uninstall; a merchant who reinstalled within
    those hours has a live install whose data must stay (a reinstall clears ``uninstalled_at``).
    """
    if shop.is_installed:
        log.warning("shop/redact for %s ignored: Kanta is installed there again", shop.domain)
        return
    # The shop's row first (FOR UPDATE): a writer in flight holds it (FOR KEY SHARE) until its
    # rows are committed, so they are deleted here too; one that comes after finds no shop. The
    # tables every paid order writes have no foreign key to the shop to do this for us
    # (plugin/models/types.py, ShopKey), and SQLite may run without ON DELETE CASCADE in old files.
    session.execute(select(Shop.id).where(Shop.id == shop.id).with_for_update())
    for model in (
        BalanceImport,
        CollectionProduct,
        OrderLine,
        RedactedCustomer,
        WebhookReceipt,
        DataExport,
        Redemption,
        Reward,
        CustomerPreference,
        CustomerMetafieldSync,
        LedgerEntry,
        OrderEvent,
        Order,
        Customer,
    ):
        session.execute(delete(model).where(model.shop_id == shop.id))
    session.delete(shop)


def _customers_for(session: Session, shop: Shop, payload: Mapping[str, Any]) -> list[Customer]:
    """The customers a compliance payload names, locked.

    By Shopify customer id when the payload has one: then an email never widens the match (the
    same address on another customer row must not hand over or erase that customer's data).
    Only a payload without an id is matched by email (documented: some carry only an email).

    Locks in the ledger's order — the customers' orders first, then the customers — so a
    webhook settling one of their orders at the same moment waits instead of deadlocking.
    """
    raw = payload.get("customer")
    if not isinstance(raw, Mapping):
        return []
    customer_id = raw.get("id")
    if customer_id is not None:
        if not isinstance(customer_id, int) or isinstance(customer_id, bool):
            raise PayloadError("customer.id must be a Shopify id")
        match = Customer.shopify_customer_id == customer_id
    else:
        email = raw.get("email")
        if not isinstance(email, str) or not email.strip():
            return []
        match = func.lower(Customer.email) == email.strip().lower()
    ids = list(
        session.scalars(
            select(Customer.id).where(Customer.shop_id == shop.id, match).order_by(Customer.id)
        )
    )
    if not ids:
        return []
    session.execute(
        select(Order.id)
        .where(Order.shop_id == shop.id, Order.customer_id.in_(ids))
        .order_by(Order.id)
        .with_for_update()
    )
    return list(
        session.scalars(
            select(Customer)
            .where(Customer.shop_id == shop.id, Customer.id.in_(ids))
            .order_by(Customer.id)
            .with_for_update()
        )
    )


def redact_customer(
    session: Session, shop: Shop, payload: Mapping[str, Any], now: datetime
) -> None:
    # None found: never held, or already redacted (identity gone): nothing more to do.
    for customer in _customers_for(session, shop, payload):
        _redact(session, shop, customer, now)
    raw = payload.get("customer")
    named_id = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(named_id, int) and not isinstance(named_id, bool):
        # Exports made while Kanta held nothing on them still name the customer.
        session.execute(
            delete(DataExport).where(
                DataExport.shop_id == shop.id, DataExport.shopify_customer_id == named_id
            )
        )
        _suppress(session, shop, named_id, now)


def _suppress(session: Session, shop: Shop, shopify_customer_id: int, now: datetime) -> None:
    """Remember the erasure (as a hash) so a late webhook cannot recreate the customer."""
    session.execute(
        insert_for(session, RedactedCustomer)
        .values(
            shop_id=shop.id,
            customer_key=suppression_key(shop.id, shopify_customer_id),
            redacted_at=now,
        )
        .on_conflict_do_nothing(index_elements=["shop_id", "customer_key"])
    )


def _redact(session: Session, shop: Shop, customer: Customer, now: datetime) -> None:
    if customer.shopify_customer_id is not None:
        _suppress(session, shop, customer.shopify_customer_id, now)
    session.execute(
        delete(CustomerPreference).where(
            CustomerPreference.shop_id == shop.id, CustomerPreference.customer_id == customer.id
        )
    )
    session.execute(
        delete(CustomerMetafieldSync).where(
            CustomerMetafieldSync.shop_id == shop.id,
            CustomerMetafieldSync.customer_id == customer.id,
        )
    )
    if customer.shopify_customer_id is not None:
        session.execute(
            delete(DataExport).where(
                DataExport.shop_id == shop.id,
                DataExport.shopify_customer_id == customer.shopify_customer_id,
            )
        )
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.shop_id == shop.id, LedgerEntry.customer_id == customer.id)
        .values(details={}, reason=None, actor=None)
    )
    session.execute(
        update(Redemption)
        .where(Redemption.shop_id == shop.id, Redemption.customer_id == customer.id)
        .values(details={}, discount_code=None)
    )
    session.execute(
        update(Order)
        .where(Order.shop_id == shop.id, Order.customer_id == customer.id)
        .values(
            customer_id=None,
            payment_gateway=None,
            payment_method_name=None,
            delivery_title=None,
            delivery_code=None,
        )
    )
    customer.shopify_customer_id = None
    customer.email = None
    customer.first_name = None
    customer.last_name = None
    customer.marketing_consent = None
    customer.consent_updated_at = None
    customer.is_member = False
    customer.redacted_at = now


def prepare_data_export(
    session: Session, shop: Shop, payload: Mapping[str, Any], now: datetime
) -> None:
    request_info = payload.get("data_request")
    request_id = request_info.get("id") if isinstance(request_info, Mapping) else None
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        raise PayloadError("data_request.id must be a Shopify id")
    found = _customers_for(session, shop, payload)
    customer = found[0] if found else None
    raw_customer = payload.get("customer")
    shopify_id = raw_customer.get("id") if isinstance(raw_customer, Mapping) else None
    if customer is not None:
        # Found by email only: still file the export under the customer's id, so that a later
        # customers/redact of that customer deletes it too.
        shopify_id = customer.shopify_customer_id
    export = _export_for(session, shop, customer, now)
    export["data_request_id"] = request_id
    session.execute(
        insert_for(session, DataExport)
        .values(
            shop_id=shop.id,
            data_request_id=request_id,
            shopify_customer_id=shopify_id if isinstance(shopify_id, int) else None,
            payload=export,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["shop_id", "data_request_id"])
    )


def _export_for(
    session: Session, shop: Shop, customer: Customer | None, now: datetime
) -> dict[str, Any]:
    if customer is None:
        return {"prepared_at": now.isoformat(), "held": False, "customer": None}
    entries = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.shop_id == shop.id, LedgerEntry.customer_id == customer.id)
        .order_by(LedgerEntry.id)
    )
    orders = session.scalars(
        select(Order)
        .where(Order.shop_id == shop.id, Order.customer_id == customer.id)
        .order_by(Order.id)
    )
    preferences = session.scalars(
        select(CustomerPreference).where(
            CustomerPreference.shop_id == shop.id, CustomerPreference.customer_id == customer.id
        )
    )
    redemptions = session.scalars(
        select(Redemption).where(
            Redemption.shop_id == shop.id, Redemption.customer_id == customer.id
        )
    )
    return {
        "prepared_at": now.isoformat(),
        "held": True,
        "customer": {
            "shopify_customer_id": str(customer.shopify_customer_id),
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "member": customer.is_member,
            "member_since": _iso(customer.member_since),
            "marketing_consent": customer.marketing_consent,
            "points": customer.points_balance,
            "pending_points": customer.pending_points,
            "tier": customer.tier_key,
        },
        "ledger": [
            {
                "kind": e.kind,
                "points": e.points,
                "pending_points": e.pending_points,
                "order_id": str(e.shopify_order_id) if e.shopify_order_id else None,
                "reason": e.reason,
                "created_at": e.created_at.isoformat(),
            }
            for e in entries
        ],
        "orders": [
            {
                "order_id": str(o.shopify_order_id),
                "name": o.name,
                "payment_method": o.payment_method_name or o.payment_gateway,
                "delivery_option": o.delivery_title,
                "points_awarded": o.awarded_points,
                "points_reversed": o.reversed_points,
            }
            for o in orders
        ],
        "preferences": [
            {"kind": p.kind, "source": p.source, "value": p.value} for p in preferences
        ],
        "redemptions": [
            {"points": r.points_cost, "code": r.discount_code, "status": r.status}
            for r in redemptions
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

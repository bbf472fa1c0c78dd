"""What each webhook topic does, as plain functions the intake dispatches to.

Each handler runs inside the intake's transaction (the receipt row and every write of the
handler commit together or not at all) and returns the jobs to run after commit
(``JobRequest``s, or None for none): the intake enqueues them once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from plugin import compliance, ledger, purchases
from plugin.jobs import JobRequest
from plugin.jobs.preferences import SYNC_REQUESTED, mark_sync_requested
from plugin.loyalty.edits import parse_order_edit
from plugin.loyalty.orders import parse_order, parse_refund
from plugin.models import Shop


@dataclass(frozen=True)
class Delivery:
    topic: str
    webhook_id: str
    received_at: datetime
    # When Shopify says the event happened (X-Shopify-Triggered-At); a retry keeps the original.
    triggered_at: datetime | None = None


Handler = Callable[[Session, Shop, Mapping[str, Any], Delivery], list[JobRequest] | None]


# After a commit that marked a customer: the outbox's drain (plugin/jobs/preferences.py).
SYNC_NUDGE = JobRequest(SYNC_REQUESTED, nudge=True)


def customer_changed(session: Session, customer_pk: int | None, now: datetime) -> list[JobRequest]:
    """A paid order or a points change of a known customer: in this transaction, mark them for
    relearning their usual choices and mirroring them (and the balance) into the checkout
    metafield; after commit, nudge the drain. (The express lane marks in its own statement.)"""
    if customer_pk is None:
        return []
    mark_sync_requested(session, customer_pk, now)
    return [SYNC_NUDGE]


def _order_handler(event: str | None) -> Handler:
    def handle(
        session: Session, shop: Shop, payload: Mapping[str, Any], d: Delivery
    ) -> list[JobRequest]:
        facts = parse_order(payload)
        order = ledger.record_order(session, shop, facts, event, d.received_at)
        purchases.record_order_lines(session, shop, facts.order_id, payload)
        if event is None:
            return []
        return customer_changed(session, order.customer_id, d.received_at)

    handle.__name__ = f"on_order_{event or 'seen'}"
    return handle


def on_order_edited(session: Session, shop: Shop, payload: Mapping[str, Any], d: Delivery) -> None:
    ledger.record_order_edit(session, shop, parse_order_edit(payload), d.received_at)


def on_refund_created(
    session: Session, shop: Shop, payload: Mapping[str, Any], d: Delivery
) -> list[JobRequest]:
    order = ledger.record_refund(session, shop, parse_refund(payload), d.received_at)
    return customer_changed(session, order.customer_id, d.received_at)


def on_app_uninstalled(
    session: Session, shop: Shop, payload: Mapping[str, Any], d: Delivery
) -> None:
    compliance.mark_uninstalled(session, shop, d.received_at, triggered_at=d.triggered_at)


def on_scopes_update(session: Session, shop: Shop, payload: Mapping[str, Any], d: Delivery) -> None:
    current = payload.get("current")
    if isinstance(current, list):
        shop.scopes = ",".join(str(s) for s in current)


def on_customers_redact(
    session: Session, shop: Shop, payload: Mapping[str, Any], d: Delivery
) -> None:
    compliance.redact_customer(session, shop, payload, d.received_at)


def on_customers_data_request(
    session: Session, shop: Shop, payload: Mapping[str, Any], d: Delivery
) -> None:
    compliance.prepare_data_export(session, shop, payload, d.received_at)


def on_shop_redact(session: Session, shop: Shop, payload: Mapping[str, Any], d: Delivery) -> None:
    compliance.redact_shop(session, shop)


TOPIC_HANDLERS: dict[str, Handler] = {
    "orders/create": _order_handler(None),
    "orders/updated": _order_handler(None),
    "orders/edited": on_order_edited,
    "orders/paid": _order_handler("paid"),
    "orders/fulfilled": _order_handler("fulfilled"),
    "orders/cancelled": _order_handler("cancelled"),
    "refunds/create": on_refund_created,
    "app/uninstalled": on_app_uninstalled,
    "app/scopes_update": on_scopes_update,
    "customers/redact": on_customers_redact,
    "customers/data_request": on_customers_data_request,
    "shop/redact": on_shop_redact,
}

# Topics that may arrive for a shop Kanta no longer (or never) holds data for: answering 200
# is correct, since there is nothing left to do.
ACCEPTED_WITHOUT_SHOP = frozenset(
    {"app/uninstalled", "customers/redact", "customers/data_request", "shop/redact"}
)

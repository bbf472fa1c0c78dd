"""The webhook endpoint itself (see the package docstring for the flow and status codes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

import psycopg
from flask import Blueprint, Response, request
from sqlalchemy import Executable, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from plugin.db import DatabaseStalled
from plugin.jobs import JobRequest
from plugin.ledger.express import NotExpress, Receipt, record_new_paid_order
from plugin.loyalty.orders import PayloadError, parse_order
from plugin.models import Shop, WebhookReceipt
from plugin.runtime import kanta
from plugin.settings import Settings

from .handlers import ACCEPTED_WITHOUT_SHOP, SYNC_NUDGE, TOPIC_HANDLERS, Delivery
from .payload import BodyError, read_payload

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)

SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
RECEIPT_COLUMNS = (
    "shop_id",
    "webhook_id",
    "topic",
    "event_id",
    "api_version",
    "triggered_at",
    "received_at",
)
REQUIRED_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",
    "X-Shopify-API-Version",
)


def _answer(status: int, message: str) -> Response:
    return Response(json.dumps({"status": message}), status=status, mimetype="application/json")


@bp.post("/webhooks")
def receive() -> Response:
    k = kanta()
    limit = k.settings.max_webhook_bytes
    if request.content_length is not None and request.content_length > limit:
        return _answer(413, "payload too large")
    try:
        raw = _read_body(limit)
    except RequestEntityTooLarge:
        return _answer(413, "payload too large")

    missing = [h for h in REQUIRED_HEADERS if not _header(h)]
    if missing:
        return _answer(400, f"missing header {missing[0]}")
    if not _signed_by_shopify(raw, request.headers["X-Shopify-Hmac-Sha256"], k.settings):
        # 401 for a bad HMAC (Shopify's compliance checks require it).
        return _answer(401, "invalid_hmac")
    domain = request.headers["X-Shopify-Shop-Domain"].strip().lower()
    topic = request.headers["X-Shopify-Topic"].strip().lower()
    if not SHOP_DOMAIN.fullmatch(domain):
        return _answer(400, "invalid shop domain")
    handler = TOPIC_HANDLERS.get(topic)
    if handler is None:
        return _answer(400, f"unsupported topic {topic}")
    try:
        payload = read_payload(raw)
    except BodyError as error:
        return _answer(400, str(error))

    received_at = k.now()
    delivery = Delivery(
        topic=topic,
        webhook_id=_header("X-Shopify-Webhook-Id") or "",
        received_at=received_at,
        triggered_at=_parse_time(request.headers.get("X-Shopify-Triggered-At")),
    )
    if topic == "orders/paid":
        try:
            answer = _express(k, domain, delivery, payload)
        except PayloadError as error:
            return _answer(400, f"unreadable payload: {error}")
        except Exception:
            log.exception("webhook %s %s failed for %s", topic, delivery.webhook_id, domain)
            return _answer(500, "internal error; Shopify will retry")
        if answer is not None:
            return answer
    try:
        with k.db.transaction() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == domain)).one_or_none()
            if shop is None:
                if topic in ACCEPTED_WITHOUT_SHOP:
                    return _answer(200, "no data held for this shop")
                return _answer(404, "shop has not installed Kanta")
            if not _first_delivery(session, shop, delivery):
                return _answer(200, "duplicate delivery")
            jobs = handler(session, shop, payload, delivery) or []
    except PayloadError as error:
        return _answer(400, f"unreadable payload: {error}")
    except Exception:
        log.exception("webhook %s %s failed for %s", topic, delivery.webhook_id, domain)
        return _answer(500, "internal error; Shopify will retry")
    _enqueue(k, jobs, delivery)
    return _answer(200, "ok")


def _express(k: Any, domain: str, delivery: Delivery, payload: Any) -> Response | None:
    """The express lane (``ledger.express``) for a paid order's first delivery; None when the
    delivery needs the general path (the express attempt was rolled back whole)."""
    facts = parse_order(payload)
    receipt = Receipt(
        webhook_id=delivery.webhook_id,
        topic=delivery.topic,
        event_id=_header("X-Shopify-Event-Id"),
        api_version=_header("X-Shopify-API-Version", 16),
        triggered_at=delivery.triggered_at,
    )
    for attempt in (1, 2):
        try:
            with k.db.raw_transaction() as cursor:
                done = record_new_paid_order(
                    cursor,
                    k.db.engine.dialect,
                    domain,
                    receipt,
                    facts,
                    payload,
                    delivery.received_at,
                )
            break
        except NotExpress:
            return None
        except psycopg.errors.DivisionByZero:
            # The express lane's write asserts that the paid event is new (express_sql.WRITE).
            return None
        except psycopg.OperationalError as error:
            # A pooled connection found dead (the server restarted): the delivery is
            # idempotent, so it is tried once more on a new connection. A stall is not retried.
            if attempt == 2 or isinstance(error, DatabaseStalled):
                raise
    if done.outcome == "no shop":
        return _answer(404, "shop has not installed Kanta")
    if done.outcome == "duplicate":
        return _answer(200, "duplicate delivery")
    # The lane's statement marked the customer (customers.sync_requested_at): nudge the drain.
    _enqueue(k, [SYNC_NUDGE], delivery)
    return _answer(200, "ok")


def _enqueue(k: Any, jobs: list[JobRequest], delivery: Delivery) -> None:
    # After commit: the delivery is recorded, so a failing job cannot make Shopify retry it.
    for requested in jobs:
        try:
            if requested.nudge:
                k.jobs.nudge(requested.name)
            else:
                k.jobs.enqueue(requested.name, **requested.kwargs)
        except Exception:  # a job's failure is its own; the webhook was processed
            log.exception("job %s after webhook %s failed", requested.name, delivery.webhook_id)


def _read_body(limit: int) -> bytes:
    """The raw body, or RequestEntityTooLarge once it passes ``limit`` bytes.

    A single ``read(limit + 1)`` is not enough: for a streamed (chunked) body Werkzeug stops at
    ``MAX_CONTENT_LENGTH`` and only raises on the *next* read, so we read until the end.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := request.stream.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _signed_by_shopify(raw: bytes, received: str, settings: Settings) -> bool:
    """The HMAC-SHA256 of the raw body, base64, compared in constant time as bytes.

    Checked here rather than with ``shopifyapp.verify_webhook_req``: that one json-parses the
    body for its log copy *before* it compares (so a 4,301-digit integer raised ValueError,
    deep nesting RecursionError, unauthenticated), compares ``str`` (a non-ASCII header raised
    TypeError), and makes every delivery pay for a second parse. The computation is the same
    (``tests/test_webhooks.py`` holds the two to the same verdicts), and the old secret is tried
    too while one is being rotated out.
    """
    if not received.isascii():
        return False
    # The base64 text itself is compared, as Shopify's libraries do: decoding first would
    # also accept the non-canonical spellings of a signature (``…g=`` and ``…h=`` decode alike).
    given = received.strip().encode("ascii")
    valid = False
    for secret in (settings.api_secret, settings.old_api_secret):
        if secret:
            digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
            valid |= hmac.compare_digest(base64.b64encode(digest), given)
    return valid


def _header(name: str, limit: int = 128) -> str | None:
    """A header as stored: trimmed, cut to the column, without NUL (which PostgreSQL refuses)."""
    value = request.headers.get(name, "").replace("\x00", "").strip()[:limit]
    return value or None


def _first_delivery(session: Session, shop: Shop, delivery: Delivery) -> bool:
    """Insert the receipt; False if this webhook id was already processed for this shop.

    On PostgreSQL a concurrent duplicate waits on the unique index until the first delivery
    commits (then does nothing) or rolls back (then proceeds), so exactly one processes it.
    """
    params = {
        "shop_id": shop.id,
        "webhook_id": delivery.webhook_id,
        "topic": delivery.topic,
        "event_id": _header("X-Shopify-Event-Id"),
        "api_version": _header("X-Shopify-API-Version", 16),
        "triggered_at": delivery.triggered_at,
        "received_at": delivery.received_at,
    }
    # RETURNING, not rowcount: psycopg reports rowcount -1 through the session.
    return session.execute(_receipt_insert(session), params).first() is not None


@cache
def _receipt_insert_for(dialect: str) -> Executable:
    """A Core statement on the table (no ORM bulk-insert machinery), built once per dialect, so
    that each delivery finds its compiled form in SQLAlchemy's cache with nothing to construct."""
    table = cast(Table, WebhookReceipt.__table__)
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    values: dict[str, Any] = {name: bindparam(name) for name in RECEIPT_COLUMNS}
    return (
        stmt.values(values)
        .on_conflict_do_nothing(index_elements=["shop_id", "webhook_id"])
        .returning(table.c.id)
    )


def _receipt_insert(session: Session) -> Executable:
    return _receipt_insert_for(session.get_bind().dialect.name)


def _parse_time(value: str | None) -> datetime | None:
    """``X-Shopify-Triggered-At`` as a UTC time, or None when it is unreadable or impossible.

    Only informative (the receipt keeps it; an uninstall compares it with the install), so a bad
    value is ignored, never a failure: year 9999 with a negative offset overflows the UTC
    conversion.
    """
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return None
        moment = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment

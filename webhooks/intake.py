"""The webhook endpoint itself (see the package docstring for the flow and status codes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from functools import cache
from typing import Any, cast

import psycopg
from flask import Blueprint, Response, request
from sqlalchemy import Executable, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from plugin import ledger
from plugin.db import DatabaseStalled
from plugin.jobs import JobRequest
from plugin.ledger.express import NotExpress, Receipt, record_new_paid_order
from plugin.loyalty.money import timestamp
from plugin.loyalty.orders import PayloadError, parse_order
from plugin.models import Shop, WebhookReceipt
from plugin.runtime import Kanta, kanta
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
# The headers every delivery carries, with their WSGI environ keys.
REQUIRED_HEADERS = tuple(
    (name, "HTTP_" + name.upper().replace("-", "_"))
    for name in (
        "X-Shopify-Topic",
        "X-Shopify-Hmac-Sha256",
        "X-Shopify-Shop-Domain",
        "X-Shopify-Webhook-Id",
        "X-Shopify-API-Version",
    )
)
Answer = tuple[int, str]  # the status and the message of the JSON answer {"status": message}


def _answer(status: int, message: str) -> Response:
    return Response(json.dumps({"status": message}), status=status, mimetype="application/json")


@bp.post("/webhooks")
def receive() -> Response:
    """The same intake inside Flask: ``WebhookIntake`` answers POST /webhooks before Flask does;
    the route stays so that other methods get Flask's 405 with its ``Allow``."""
    return _answer(*handle(kanta(), request.environ))


def handle(k: Kanta, environ: dict[str, Any]) -> Answer:
    """One delivery, from the WSGI environ to the answer (the package docstring has the flow)."""
    limit = k.settings.max_webhook_bytes
    try:
        raw = _read_body(environ, limit)
    except RequestEntityTooLarge:
        return 413, "payload too large"
    except HTTPException as error:  # the client sent less than its Content-Length
        return error.code or 400, error.description or error.name

    for name, key in REQUIRED_HEADERS:
        if not _header(environ, key):
            return 400, f"missing header {name}"
    if not _signed_by_shopify(raw, environ["HTTP_X_SHOPIFY_HMAC_SHA256"], k.settings):
        # 401 for a bad HMAC (Shopify's compliance checks require it).
        return 401, "invalid_hmac"
    domain = environ["HTTP_X_SHOPIFY_SHOP_DOMAIN"].strip().lower()
    topic = environ["HTTP_X_SHOPIFY_TOPIC"].strip().lower()
    if not SHOP_DOMAIN.fullmatch(domain):
        return 400, "invalid shop domain"
    handler = TOPIC_HANDLERS.get(topic)
    if handler is None:
        return 400, f"unsupported topic {topic}"
    try:
        payload = read_payload(raw)
    except BodyError as error:
        return 400, str(error)

    received_at = k.now()
    delivery = Delivery(
        topic=topic,
        webhook_id=_header(environ, "HTTP_X_SHOPIFY_WEBHOOK_ID") or "",
        received_at=received_at,
        # Only informative (the receipt keeps it; an uninstall compares it with the install):
        # unreadable or impossible (year 9999 at -05:00 overflows UTC), it is None, not a 500.
        triggered_at=timestamp(environ.get("HTTP_X_SHOPIFY_TRIGGERED_AT")),
    )
    if topic == "orders/paid":
        try:
            answer = _express(k, environ, domain, delivery, payload)
        except PayloadError as error:
            return 400, f"unreadable payload: {error}"
        except Exception:
            log.exception("webhook %s %s failed for %s", topic, delivery.webhook_id, domain)
            return 500, "internal error; Shopify will retry"
        if answer is not None:
            return answer
    try:
        with k.db.transaction() as session:
            # Held until the commit (FOR KEY SHARE): shop/redact waits for this delivery's rows
            # to be written before it deletes the shop's (plugin/models/types.py, ShopKey).
            shop = session.scalars(
                select(Shop).where(Shop.domain == domain).with_for_update(read=True, key_share=True)
            ).one_or_none()
            if shop is None:
                if topic in ACCEPTED_WITHOUT_SHOP:
                    return 200, "no data held for this shop"
                return 404, "shop has not installed Kanta"
            ledger.shop_held(session, shop)
            if not _first_delivery(session, shop, delivery, environ):
                return 200, "duplicate delivery"
            jobs = handler(session, shop, payload, delivery) or []
    except PayloadError as error:
        return 400, f"unreadable payload: {error}"
    except Exception:
        log.exception("webhook %s %s failed for %s", topic, delivery.webhook_id, domain)
        return 500, "internal error; Shopify will retry"
    _enqueue(k, jobs, delivery)
    return 200, "ok"


def _express(
    k: Kanta, environ: dict[str, Any], domain: str, delivery: Delivery, payload: Any
) -> Answer | None:
    """The express lane (``ledger.express``) for a paid order's first delivery; None when the
    delivery needs the general path (the express attempt was rolled back whole)."""
    facts = parse_order(payload)
    receipt = Receipt(
        webhook_id=delivery.webhook_id,
        topic=delivery.topic,
        event_id=_header(environ, "HTTP_X_SHOPIFY_EVENT_ID"),
        api_version=_header(environ, "HTTP_X_SHOPIFY_API_VERSION", 16),
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
        return 404, "shop has not installed Kanta"
    if done.outcome == "duplicate":
        return 200, "duplicate delivery"
    # The lane's statement marked the customer (customers.sync_requested_at): nudge the drain.
    _enqueue(k, [SYNC_NUDGE], delivery)
    return 200, "ok"


def _enqueue(k: Kanta, jobs: list[JobRequest], delivery: Delivery) -> None:
    # After commit: the delivery is recorded, so a failing job cannot make Shopify retry it.
    for requested in jobs:
        try:
            if requested.nudge:
                k.jobs.nudge(requested.name)
            else:
                k.jobs.enqueue(requested.name, **requested.kwargs)
        except Exception:  # a job's failure is its own; the webhook was processed
            log.exception("job %s after webhook %s failed", requested.name, delivery.webhook_id)


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The raw body, or RequestEntityTooLarge once it passes ``limit`` bytes.

    Werkzeug's own input stream, as a Flask request reads it: bounded by the Content-Length
    (a 413 up front when that says too much), and a streamed (chunked) body only where the
    server de-chunks it (``wsgi.input_terminated``). A single ``read(limit + 1)`` is not enough:
    for a streamed body the stream stops at the limit and only raises on the *next* read, so we
    read until the end.
    """
    stream = get_input_stream(environ, max_content_length=limit)  # 413 up front if too long
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(64 * 1024):
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


def _header(environ: dict[str, Any], key: str, limit: int = 128) -> str | None:
    """A header (by its environ key) as stored: trimmed, cut to the column, without NUL (which
    PostgreSQL refuses)."""
    value = environ.get(key)
    if not value:
        return None
    return value.replace("\x00", "").strip()[:limit] or None


def _first_delivery(
    session: Session, shop: Shop, delivery: Delivery, environ: dict[str, Any]
) -> bool:
    """Insert the receipt; False if this webhook id was already processed for this shop.

    On PostgreSQL a concurrent duplicate waits on the unique index until the first delivery
    commits (then does nothing) or rolls back (then proceeds), so exactly one processes it.
    """
    params = {
        "shop_id": shop.id,
        "webhook_id": delivery.webhook_id,
        "topic": delivery.topic,
        "event_id": _header(environ, "HTTP_X_SHOPIFY_EVENT_ID"),
        "api_version": _header(environ, "HTTP_X_SHOPIFY_API_VERSION", 16),
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


class WebhookIntake:
    """WSGI middleware: ``POST /webhooks`` answered by ``handle`` straight from the environ,
    before Flask builds a request context for it (a fifth of the intake's own time went to
    Flask's per-request machinery: bench/README.md); every other request goes to ``app``.
    The answers are byte for byte the ones the Flask view gives."""

    def __init__(self, app: Any, k: Kanta) -> None:
        self.app = app
        self.kanta = k
        # The embedded job runner's scheduler starts with the first request (app.py).
        self.on_request = getattr(k.jobs, "ensure_schedule", None)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/webhooks" or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        if self.on_request is not None:
            self.on_request()
        try:
            status, message = handle(self.kanta, environ)
            body = json.dumps({"status": message}).encode()
        except Exception:  # answered as Flask's error handler (plugin/http.py) answers it
            log.exception("unhandled error on POST /webhooks")
            status, body = 500, b'{"error": "internal error"}'

        line = f"{status} {HTTP_STATUS_CODES[status].upper()}"  # as Werkzeug spells it
        start_response(
            line, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

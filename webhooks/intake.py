"""The webhook endpoint itself (see the package docstring for the flow and status codes)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from plugin.db import insert_for
from plugin.loyalty.orders import PayloadError
from plugin.models import Shop, WebhookReceipt
from plugin.runtime import kanta

from .handlers import ACCEPTED_WITHOUT_SHOP, TOPIC_HANDLERS, Delivery

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)

SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
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

    missing = [h for h in REQUIRED_HEADERS if not request.headers.get(h, "").strip()]
    if missing:
        return _answer(400, f"missing header {missing[0]}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _answer(400, "body is not UTF-8")

    try:
        verified = k.shopify.app.verify_webhook_req(
            {
                "method": request.method,
                "headers": dict(request.headers),
                "url": request.url,
                "body": text,
            }
        )
    except RecursionError:
        # shopifyapp 1.0.2 json-parses the body (to redact its log copy) before checking the
        # HMAC and lets RecursionError out on absurdly deep nesting. No such body is a Shopify
        # delivery, signed or not: refuse it as malformed rather than fail with a 500.
        return _answer(400, "malformed JSON")
    if not verified.ok:
        # 401 for a bad HMAC (Shopify's compliance checks require it), 400 otherwise.
        return _answer(verified.response.status, verified.log.code)

    domain = request.headers["X-Shopify-Shop-Domain"].strip().lower()
    topic = request.headers["X-Shopify-Topic"].strip().lower()
    if not SHOP_DOMAIN.fullmatch(domain):
        return _answer(400, "invalid shop domain")
    handler = TOPIC_HANDLERS.get(topic)
    if handler is None:
        return _answer(400, f"unsupported topic {topic}")
    try:
        payload = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        # RecursionError: absurdly deep nesting is malformed too, not an internal error.
        return _answer(400, "malformed JSON")
    if not isinstance(payload, dict):
        return _answer(400, "payload must be a JSON object")

    delivery = Delivery(
        topic=topic,
        webhook_id=request.headers["X-Shopify-Webhook-Id"].strip()[:128],
        received_at=k.now(),
        triggered_at=_parse_time(request.headers.get("X-Shopify-Triggered-At")),
    )
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
    # After commit: the delivery is recorded, so a failing job cannot make Shopify retry it.
    for requested in jobs:
        try:
            k.jobs.enqueue(requested.name, **requested.kwargs)
        except Exception:  # a job's failure is its own; the webhook was processed
            log.exception("job %s after webhook %s failed", requested.name, delivery.webhook_id)
    return _answer(200, "ok")


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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _first_delivery(session: Session, shop: Shop, delivery: Delivery) -> bool:
    """Insert the receipt; False if this webhook id was already processed for this shop.

    On PostgreSQL a concurrent duplicate waits on the unique index until the first delivery
    commits (then does nothing) or rolls back (then proceeds), so exactly one processes it.
    """
    headers = request.headers
    stmt = (
        insert_for(session, WebhookReceipt)
        .values(
            shop_id=shop.id,
            webhook_id=delivery.webhook_id,
            topic=delivery.topic,
            event_id=(headers.get("X-Shopify-Event-Id", "").strip()[:128] or None),
            api_version=headers.get("X-Shopify-API-Version", "")[:16] or None,
            triggered_at=delivery.triggered_at,
            received_at=delivery.received_at,
        )
        .on_conflict_do_nothing(index_elements=["shop_id", "webhook_id"])
        .returning(WebhookReceipt.id)
    )
    # RETURNING, not rowcount: through the ORM session, psycopg reports rowcount -1 here (so
    # every redelivery looked new on PostgreSQL).
    return session.execute(stmt).first() is not None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None

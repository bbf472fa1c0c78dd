"""The webhook intake, ``POST /webhooks``: what it accepts, what it refuses, and that a refusal
or a failure never leaves anything written.

Status semantics (as Shopify's own libraries): 400 missing header or unreadable body, 401 bad
HMAC, 404 shop never installed, 405 wrong method, 413 too large, 5xx when a handler fails (so
Shopify retries), 200 for everything processed, including a redelivery that does nothing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Response as WSGIResponse

import webhooks.handlers
import webhooks.intake
from devstore.payloads import LineSpec, build_customer, build_order, build_refund
from devstore.signing import sign_webhook, webhook_headers
from plugin.ledger import express_sql
from plugin.ledger.express import NotExpress
from plugin.models import Base, Customer, LedgerEntry, Order, Shop, WebhookReceipt
from tests.conftest import API_SECRET, OTHER_SHOP, SHOP, install_shop, post_webhook
from tests.conftest import test_env as env_with  # aliased: pytest would collect "test_env"
from webhooks.handlers import Delivery

ORDER_ID = 7_100_000_000_000_000_001
CUSTOMER_ID = 7_200_000_000_000_000_001


# --- helpers -------------------------------------------------------------------------------


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table of the schema: compare before/after to prove nothing was written."""
    with app.extensions["kanta"].db.read() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def ledger(app: Flask, domain: str = SHOP) -> list[tuple[str, int, int]]:
    """(kind, points, pending) of every entry of the shop, in order."""
    with app.extensions["kanta"].db.read() as session:
        rows = session.execute(
            select(LedgerEntry.kind, LedgerEntry.points, LedgerEntry.pending_points)
            .join(Shop, Shop.id == LedgerEntry.shop_id)
            .where(Shop.domain == domain)
            .order_by(LedgerEntry.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def balance(app: Flask, customer_id: int = CUSTOMER_ID, domain: str = SHOP) -> int:
    with app.extensions["kanta"].db.read() as session:
        points: int = session.execute(
            select(Customer.points_balance)
            .join(Shop, Shop.id == Customer.shop_id)
            .where(Shop.domain == domain, Customer.shopify_customer_id == customer_id)
        ).scalar_one()
    return points


def paid_order(
    order_id: int = ORDER_ID, *, shop: str = SHOP, price: str = "40.00", **kw: Any
) -> dict[str, Any]:
    customer = build_customer(
        CUSTOMER_ID, email="ann@example.com", first_name="Ann", last_name="Lee"
    )
    return build_order(
        order_id=order_id,
        shop_domain=shop,
        customer=customer,
        lines=[LineSpec("Tea", Decimal(price))],
        **kw,
    )


def signed_post(
    client: FlaskClient,
    body: bytes,
    *,
    topic: str = "orders/paid",
    shop: str = SHOP,
    secret: str = API_SECRET,
    drop: str | None = None,
    **overrides: str,
) -> TestResponse:
    """POST raw ``body`` with Shopify's headers; ``drop`` leaves one header out."""
    headers = webhook_headers(
        topic=topic, shop_domain=shop, body=body, secret=secret, api_version="2026-04"
    )
    headers.update(overrides)
    if drop is not None:
        del headers[drop]
    return client.post("/webhooks", data=body, headers=headers)


def assert_refused_without_writes(
    app: Flask, send: Callable[[], TestResponse], status: int
) -> TestResponse:
    before = row_counts(app)
    response = send()
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    assert row_counts(app) == before
    return response


# --- verification comes first --------------------------------------------------------------


def test_a_signed_order_is_accepted_and_recorded_once(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    response = post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert ledger(app) == [("order_award", 40, 0)]
    with app.extensions["kanta"].db.read() as session:
        receipt = session.scalars(select(WebhookReceipt)).one()
    assert (receipt.shop_id, receipt.webhook_id, receipt.topic) == (shop, "w-1", "orders/paid")
    assert receipt.api_version == "2026-04"
    assert receipt.triggered_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "X-Shopify-Topic",
        "X-Shopify-Hmac-Sha256",
        "X-Shopify-Shop-Domain",
        "X-Shopify-Webhook-Id",
        "X-Shopify-API-Version",
    ],
)
def test_a_missing_header_is_a_400(app: Flask, client: FlaskClient, shop: int, header: str) -> None:
    body = json.dumps(paid_order()).encode()
    response = assert_refused_without_writes(
        app, lambda: signed_post(client, body, drop=header), 400
    )
    assert header in response.get_json()["status"]


def test_a_blank_webhook_id_counts_as_missing(app: Flask, client: FlaskClient, shop: int) -> None:
    body = json.dumps(paid_order()).encode()
    assert_refused_without_writes(
        app, lambda: signed_post(client, body, **{"X-Shopify-Webhook-Id": "  "}), 400
    )


def test_a_bad_hmac_is_a_401(app: Flask, client: FlaskClient, shop: int) -> None:
    body = json.dumps(paid_order()).encode()
    assert_refused_without_writes(
        app, lambda: signed_post(client, body, secret="not-the-app-secret"), 401
    )


def test_a_body_changed_after_signing_is_a_401(app: Flask, client: FlaskClient, shop: int) -> None:
    body = json.dumps(paid_order()).encode()
    headers = webhook_headers(
        topic="orders/paid", shop_domain=SHOP, body=body, secret=API_SECRET, api_version="2026-04"
    )
    tampered = body.replace(b'"40.00"', b'"99.00"', 1)
    assert tampered != body
    assert_refused_without_writes(
        app, lambda: client.post("/webhooks", data=tampered, headers=headers), 401
    )


def test_the_published_hmac_vector_is_accepted_and_a_one_character_change_is_not(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    """body ``{"foo": "bar"}`` signed with ``test_secret_key`` (STYLE.md, cross-checked)."""
    vector = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="
    app = make_app(env=env_with(database_url, SHOPIFY_API_SECRET="test_secret_key"))
    client = app.test_client()
    body = b'{"foo": "bar"}'
    assert sign_webhook(body, "test_secret_key") == vector

    def send(hmac_value: str, data: bytes = body) -> int:
        headers = webhook_headers(
            topic="shop/redact",
            shop_domain=SHOP,
            body=data,
            secret="unused",
            api_version="2026-04",
        )
        headers["X-Shopify-Hmac-Sha256"] = hmac_value
        return client.post("/webhooks", data=data, headers=headers).status_code

    # No shop is installed: a verified shop/redact is a 200 with nothing to do.
    assert send(vector) == 200
    assert send(vector[:-2] + "h=") == 401  # one character of the HMAC
    assert send(vector, b'{"foo": "baz"}') == 401  # one character of the body
    assert row_counts(app) == dict.fromkeys(row_counts(app), 0)


def test_a_body_over_the_limit_is_a_413(app: Flask, client: FlaskClient, shop: int) -> None:
    limit = app.extensions["kanta"].settings.max_webhook_bytes
    body = json.dumps({**paid_order(), "note": "x" * limit}).encode()
    assert_refused_without_writes(app, lambda: signed_post(client, body), 413)


def test_a_streamed_body_over_the_limit_is_a_413(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    """Chunked upload, no Content-Length: the limit holds while reading, not only up front."""
    limit = app.extensions["kanta"].settings.max_webhook_bytes
    body = json.dumps({**paid_order(), "note": "x" * limit}).encode()

    def send() -> TestResponse:
        headers = webhook_headers(
            topic="orders/paid",
            shop_domain=SHOP,
            body=body,
            secret=API_SECRET,
            api_version="2026-04",
        )
        headers["Transfer-Encoding"] = "chunked"
        return client.post(
            "/webhooks",
            input_stream=io.BytesIO(body),
            headers=headers,
            # What a server that de-chunks the body (gunicorn, Werkzeug's own) tells the app.
            environ_overrides={"wsgi.input_terminated": True},
        )

    assert_refused_without_writes(app, send, 413)


def test_a_streamed_body_under_the_limit_is_processed(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    body = json.dumps(paid_order()).encode()
    headers = webhook_headers(
        topic="orders/paid", shop_domain=SHOP, body=body, secret=API_SECRET, api_version="2026-04"
    )
    headers["Transfer-Encoding"] = "chunked"
    response = client.post(
        "/webhooks",
        input_stream=io.BytesIO(body),
        headers=headers,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200
    assert ledger(app) == [("order_award", 40, 0)]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"id": 1,', "truncated"),
        (b"", "empty"),
        (b'{"id": 7100000000000000001, "note": NaN}', "NaN is not JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "nested deeper than the parser goes"),
        (b"[1, 2]", "an array"),
        (b'"an order"', "a string"),
        (b"null", "null"),
        (b"\xff\xfe{\x00}", "not UTF-8"),
    ],
)
def test_an_unreadable_body_with_a_valid_hmac_is_a_400(
    app: Flask, client: FlaskClient, shop: int, body: bytes, why: str
) -> None:
    response = assert_refused_without_writes(app, lambda: signed_post(client, body), 400)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "domain",
    ["evil.com", "shop.myshopify.com.evil.test", "-shop.myshopify.com", "shop.myshopify.com/x"],
)
def test_an_invalid_shop_domain_is_a_400(
    app: Flask, client: FlaskClient, shop: int, domain: str
) -> None:
    body = json.dumps(paid_order()).encode()
    assert_refused_without_writes(app, lambda: signed_post(client, body, shop=domain), 400)


def test_an_unknown_topic_is_a_400(app: Flask, client: FlaskClient, shop: int) -> None:
    body = json.dumps({"id": 1}).encode()
    assert_refused_without_writes(
        app, lambda: signed_post(client, body, topic="products/create"), 400
    )


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_any_method_but_post_is_a_405(
    app: Flask, client: FlaskClient, shop: int, method: str
) -> None:
    body = json.dumps(paid_order()).encode()
    headers = webhook_headers(
        topic="orders/paid", shop_domain=SHOP, body=body, secret=API_SECRET, api_version="2026-04"
    )
    assert_refused_without_writes(
        app, lambda: client.open("/webhooks", method=method, data=body, headers=headers), 405
    )


# --- which shop ----------------------------------------------------------------------------


def test_a_shop_that_never_installed_gets_a_404_and_nothing_is_written(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    response = assert_refused_without_writes(
        app,
        lambda: post_webhook(client, "orders/paid", paid_order(shop=OTHER_SHOP), shop=OTHER_SHOP),
        404,
    )
    assert "not installed" in response.get_json()["status"]


@pytest.mark.parametrize(
    "topic", ["customers/redact", "customers/data_request", "shop/redact", "app/uninstalled"]
)
def test_compliance_topics_for_an_unknown_shop_are_a_200_with_nothing_written(
    app: Flask, client: FlaskClient, shop: int, topic: str
) -> None:
    payload = {
        "shop_id": 1,
        "shop_domain": OTHER_SHOP,
        "customer": {"id": CUSTOMER_ID, "email": "ann@example.com", "phone": None},
        "orders_to_redact": [],
        "orders_requested": [],
        "data_request": {"id": 9},
    }
    assert_refused_without_writes(
        app, lambda: post_webhook(client, topic, payload, shop=OTHER_SHOP), 200
    )


# --- once per delivery, once per event -----------------------------------------------------


def test_a_redelivery_with_the_same_webhook_id_does_nothing(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    assert post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1").status_code == 200
    before = row_counts(app)

    response = post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1")

    assert response.status_code == 200
    assert response.get_json() == {"status": "duplicate delivery"}
    assert row_counts(app) == before
    assert ledger(app) == [("order_award", 40, 0)]


def test_a_redelivery_does_not_even_reread_the_payload(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    """The receipt decides: a retry whose order has since changed is still the same delivery."""
    post_webhook(client, "orders/updated", paid_order(order_number=1001), webhook_id="w-1")
    post_webhook(client, "orders/updated", paid_order(order_number=5000), webhook_id="w-1")
    with app.extensions["kanta"].db.read() as session:
        assert session.scalars(select(Order.name)).one() == "#1001"


def test_overlong_delivery_headers_are_cut_to_fit_not_a_failure(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    long_id = "w" * 300
    headers = {"X-Shopify-Event-Id": "e" * 300, "X-Shopify-API-Version": "2026-04-unstable-x"}
    first = post_webhook(client, "orders/paid", paid_order(), webhook_id=long_id, headers=headers)
    again = post_webhook(client, "orders/paid", paid_order(), webhook_id=long_id, headers=headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json() == {"status": "duplicate delivery"}
    with app.extensions["kanta"].db.read() as session:
        receipt = session.scalars(select(WebhookReceipt)).one()
    assert (len(receipt.webhook_id), len(receipt.event_id or "")) == (128, 128)


def test_the_same_webhook_id_for_two_shops_is_two_deliveries(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    install_shop(app, OTHER_SHOP)

    first = post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1")
    second = post_webhook(
        client, "orders/paid", paid_order(shop=OTHER_SHOP), shop=OTHER_SHOP, webhook_id="w-1"
    )

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json() == {"status": "ok"}
    assert ledger(app, SHOP) == [("order_award", 40, 0)]
    assert ledger(app, OTHER_SHOP) == [("order_award", 40, 0)]


def test_one_event_from_two_subscriptions_pays_once(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    """Two webhook ids, one order: the ledger's own key keeps it to one award."""
    first = post_webhook(client, "orders/paid", paid_order(), webhook_id="sub-a")
    second = post_webhook(client, "orders/paid", paid_order(), webhook_id="sub-b")

    assert (first.status_code, second.status_code) == (200, 200)
    assert row_counts(app)["webhook_receipts"] == 2
    assert ledger(app) == [("order_award", 40, 0)]
    assert balance(app) == 40


def test_one_refund_from_two_subscriptions_reverses_once(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    order = paid_order()
    post_webhook(client, "orders/paid", order)
    refund = build_refund(
        refund_id=7_300_000_000_000_000_001, order=order, lines=[(order["line_items"][0]["id"], 1)]
    )

    post_webhook(client, "refunds/create", refund, webhook_id="sub-a")
    post_webhook(client, "refunds/create", refund, webhook_id="sub-b")

    assert ledger(app) == [("order_award", 40, 0), ("refund_reversal", -40, 0)]
    assert balance(app) == 0


# --- failure leaves nothing behind ---------------------------------------------------------


def _write_then_fail(
    session: Session, shop: Shop, payload: Mapping[str, Any], delivery: Delivery
) -> None:
    """Does real work through the real handler, then fails, as a crash mid-way would."""
    webhooks.handlers._order_handler("paid")(session, shop, payload, delivery)
    session.flush()
    raise RuntimeError("secret-looking internal detail /srv/kanta/plugin/ledger.py line 42")


def _fail_after_writes(patch: pytest.MonkeyPatch, lane: str) -> None:
    """Make the delivery's lane fail once it has written: the general path's handler, or the
    express lane's writing statement (``ledger.express``)."""
    if lane == "general":
        patch.setitem(webhooks.handlers.TOPIC_HANDLERS, "orders/paid", _write_then_fail)
        patch.setattr(webhooks.intake, "record_new_paid_order", _not_express)
        return
    for statements in (express_sql.Postgres, express_sql.SQLite):
        original = statements.write

        def write_then_fail(self: Any, cursor: Any, w: Any, _original: Any = original) -> bool:
            _original(self, cursor, w)
            raise RuntimeError("secret-looking internal detail /srv/kanta/plugin/ledger.py")

        patch.setattr(statements, "write", write_then_fail)


def _not_express(*args: Any, **kwargs: Any) -> Any:
    raise NotExpress("this test takes the general path")


@pytest.mark.parametrize("lane", ["general", "express"])
def test_a_failing_handler_is_a_500_and_writes_nothing(
    app: Flask, client: FlaskClient, shop: int, monkeypatch: pytest.MonkeyPatch, lane: str
) -> None:
    _fail_after_writes(monkeypatch, lane)

    response = assert_refused_without_writes(
        app, lambda: post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1"), 500
    )

    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    assert "ledger.py" not in text


def test_a_failure_outside_the_handlers_is_a_json_500_without_a_trace(
    app: Flask, client: FlaskClient, shop: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intake answers ahead of Flask (``WebhookIntake``): an error its own steps did not
    foresee still gets the JSON 500 that Flask's error handler gives, and the log its trace."""

    def broken(raw: bytes) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(webhooks.intake, "read_payload", broken)
    response = assert_refused_without_writes(
        app, lambda: post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1"), 500
    )
    assert response.get_json() == {"error": "internal error"}
    assert "secret internals" not in response.get_data(as_text=True)


def test_the_intake_answers_as_the_flask_view_does(app: Flask, shop: int) -> None:
    """The middleware and the route it stands in front of give the same status, headers and
    body: for a new order, for its redelivery, and for a bad signature."""

    def answers(wsgi: Any, order_id: int, webhook_id: str) -> list[tuple[Any, ...]]:
        body = json.dumps(paid_order(order_id)).encode()
        headers = webhook_headers(
            topic="orders/paid",
            shop_domain=SHOP,
            body=body,
            secret=API_SECRET,
            api_version="2026-04",
            webhook_id=webhook_id,
        )
        forged = {**headers, "X-Shopify-Hmac-Sha256": "AAAA"}
        seen = []
        for sent in (headers, headers, forged):
            environ = EnvironBuilder(
                path="/webhooks", method="POST", data=body, headers=sent
            ).get_environ()
            response = WSGIResponse.from_app(wsgi, environ)
            seen.append((response.status, sorted(response.headers.items()), response.get_data()))
        return seen

    intake = app.wsgi_app
    assert isinstance(intake, webhooks.intake.WebhookIntake)
    ahead = answers(intake, ORDER_ID, "w-1")
    assert ahead == answers(intake.app, ORDER_ID + 1, "w-2")  # Flask's own view
    assert [(status, body) for status, _, body in ahead] == [
        ("200 OK", b'{"status": "ok"}'),
        ("200 OK", b'{"status": "duplicate delivery"}'),
        ("401 UNAUTHORIZED", b'{"status": "invalid_hmac"}'),
    ]
    assert ledger(app) == [("order_award", 40, 0), ("order_award", 40, 0)]


@pytest.mark.parametrize("lane", ["general", "express"])
def test_the_retry_after_a_failure_succeeds_and_pays_once(
    app: Flask, client: FlaskClient, shop: int, monkeypatch: pytest.MonkeyPatch, lane: str
) -> None:
    with monkeypatch.context() as patch:
        _fail_after_writes(patch, lane)
        assert (
            post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1").status_code == 500
        )

    retry = post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1")
    again = post_webhook(client, "orders/paid", paid_order(), webhook_id="w-1")

    assert retry.get_json() == {"status": "ok"}
    assert again.get_json() == {"status": "duplicate delivery"}
    assert ledger(app) == [("order_award", 40, 0)]
    assert balance(app) == 40


# --- payloads Kanta cannot read ------------------------------------------------------------


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


REFUND = build_refund(refund_id=7_300_000_000_000_000_009, order=paid_order(), lines=[])


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("orders/paid", _without(paid_order(), "id")),
        ("orders/paid", {**paid_order(), "id": "not-an-id"}),
        ("orders/paid", {**paid_order(), "line_items": {"id": 1}}),
        ("orders/paid", {**paid_order(), "line_items": ["a line"]}),
        ("orders/create", {**paid_order(), "customer": {"id": -5}}),
        ("refunds/create", _without(REFUND, "order_id")),
        ("refunds/create", {**REFUND, "refund_line_items": "all"}),
        ("customers/data_request", {"customer": {"id": CUSTOMER_ID}, "data_request": {}}),
    ],
)
def test_a_payload_kanta_cannot_read_is_a_400_with_nothing_written(
    app: Flask, client: FlaskClient, shop: int, topic: str, payload: dict[str, Any]
) -> None:
    response = assert_refused_without_writes(app, lambda: post_webhook(client, topic, payload), 400)
    assert response.get_json()["status"].startswith("unreadable payload")


# --- what the happy path does --------------------------------------------------------------


def test_a_pos_order_earns_like_an_online_order(app: Flask, client: FlaskClient, shop: int) -> None:
    pos = paid_order(source_name="pos", shipping_title=None)
    assert pos["shipping_lines"] == []

    response = post_webhook(client, "orders/paid", pos)

    assert response.status_code == 200
    assert ledger(app) == [("order_award", 40, 0)]
    with app.extensions["kanta"].db.read() as session:
        order = session.scalars(select(Order)).one()
    assert (order.source_name, order.delivery_kind, order.award_status) == ("pos", "pos", "awarded")


def test_header_names_are_case_insensitive(app: Flask, client: FlaskClient, shop: int) -> None:
    body = json.dumps(paid_order()).encode()
    signed = webhook_headers(
        topic="orders/paid", shop_domain=SHOP, body=body, secret=API_SECRET, api_version="2026-04"
    )
    headers = {name.lower(): value for name, value in signed.items()}
    assert client.post("/webhooks", data=body, headers=headers).status_code == 200
    assert ledger(app) == [("order_award", 40, 0)]


# --- hard to knock over: inputs that once made a 500 ---------------------------------------


def test_a_huge_integer_in_an_unsigned_body_is_a_401_not_a_500(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    """Python refuses to parse integers past 4,300 digits; the HMAC is checked before any
    parse, so a forged body never reaches the parser at all."""
    body = b'{"id": ' + b"7" * 4301 + b"}"
    response = assert_refused_without_writes(
        app, lambda: signed_post(client, body, secret="not-the-app-secret"), 401
    )
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_huge_integer_in_a_signed_body_is_a_400(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    body = b'{"id": ' + b"7" * 4301 + b"}"
    assert_refused_without_writes(app, lambda: signed_post(client, body), 400)


@pytest.mark.parametrize("value", ["é" * 44, "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7ü=", "ÿ"])
def test_a_non_ascii_hmac_header_is_a_401_not_a_500(
    app: Flask, client: FlaskClient, shop: int, value: str
) -> None:
    body = json.dumps(paid_order()).encode()
    assert_refused_without_writes(
        app, lambda: signed_post(client, body, **{"X-Shopify-Hmac-Sha256": value}), 401
    )


@pytest.mark.parametrize(
    ("signed_with", "current", "old", "accepted"),
    [
        ("new-secret", "new-secret", None, True),
        ("old-secret", "new-secret", "old-secret", True),  # a rotation in progress
        ("old-secret", "new-secret", None, False),
        ("other", "new-secret", "old-secret", False),
    ],
)
def test_the_intake_hmac_check_agrees_with_shopifyapps(
    make_app: Callable[..., Flask],
    database_url: str,
    signed_with: str,
    current: str,
    old: str | None,
    accepted: bool,
) -> None:
    """Kanta checks webhook HMACs itself (over the raw bytes, before any parse); shopifyapp's
    own verifier must reach the same verdict on the same delivery."""
    extra = {"SHOPIFY_API_SECRET": current} | ({"SHOPIFY_API_SECRET_OLD": old} if old else {})
    app = make_app(env=env_with(database_url, **extra))
    body = b'{"shop_id": 1, "shop_domain": "shop-one.myshopify.com"}'
    headers = webhook_headers(
        topic="shop/redact", shop_domain=SHOP, body=body, secret=signed_with, api_version="2026-04"
    )
    theirs = app.extensions["kanta"].shopify.app.verify_webhook_req(
        {
            "method": "POST",
            "headers": headers,
            "url": "https://kanta.example/webhooks",
            "body": body.decode(),
        }
    )
    ours = app.test_client().post("/webhooks", data=body, headers=headers).status_code
    assert theirs.ok is accepted
    assert ours == (200 if accepted else 401)


def customer_named(first: str, last: str) -> dict[str, Any]:
    order = paid_order()
    order["customer"] = {**order["customer"], "first_name": first, "last_name": last}
    return order


def test_nul_and_lone_surrogates_in_strings_are_cleaned_and_the_order_recorded(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    """Neither PostgreSQL (NUL) nor the drivers (lone surrogates) can store them; left in, the
    delivery would fail on every retry until Shopify dropped the order."""
    body = json.dumps(customer_named("A\x00nn", "L\ud800ee\udfff")).encode()
    assert b"\\u0000" in body
    assert b"\\ud800" in body

    response = signed_post(client, body)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert ledger(app) == [("order_award", 40, 0)]
    with app.extensions["kanta"].db.read() as session:
        names = session.execute(select(Customer.first_name, Customer.last_name)).one()
    assert tuple(names) == ("Ann", "Lee")


def test_a_nul_in_the_webhook_id_header_is_dropped_not_stored(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    body = json.dumps(paid_order()).encode()
    response = signed_post(client, body, **{"X-Shopify-Webhook-Id": "w-\x001"})
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.extensions["kanta"].db.read() as session:
        assert session.scalars(select(WebhookReceipt.webhook_id)).one() == "w-1"


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("orders/paid", {**paid_order(), "id": "²"}),  # isdigit(), yet int() raises
        ("orders/paid", {**paid_order(), "id": "١٢٣"}),  # Arabic-Indic: int() would read 123
        ("orders/paid", {**paid_order(), "customer": {"id": "７２"}}),  # fullwidth
        ("refunds/create", {**REFUND, "order_adjustments": 5}),
        # {additions, removals} is the shape of order_edit.line_items only, never of an order's.
        ("orders/paid", {**paid_order(), "line_items": {"additions": [], "removals": []}}),
        ("refunds/create", {**REFUND, "order_adjustments": {"kind": "shipping_refund"}}),
        ("customers/redact", {"customer": {"id": 2**63}, "orders_to_redact": []}),
        ("customers/data_request", {"customer": {"id": 1}, "data_request": {"id": 2**64}}),
    ],
)
def test_a_signed_poison_payload_is_a_400_not_a_500(
    app: Flask, client: FlaskClient, shop: int, topic: str, payload: dict[str, Any]
) -> None:
    response = assert_refused_without_writes(app, lambda: post_webhook(client, topic, payload), 400)
    assert response.get_json()["status"].startswith("unreadable payload")


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "soon"],
)
def test_an_impossible_triggered_at_is_ignored_not_a_500(
    app: Flask, client: FlaskClient, shop: int, value: str
) -> None:
    body = json.dumps(paid_order()).encode()
    response = signed_post(client, body, **{"X-Shopify-Triggered-At": value})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ledger(app) == [("order_award", 40, 0)]


# Times a datetime cannot hold in UTC (the first two), and times it holds but cannot move by a
# tier window or a pending period (the last two): read as absent, never a 500 that Shopify
# retries until it drops the order.
EDGES_OF_TIME = [
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
]


@pytest.mark.parametrize("value", EDGES_OF_TIME)
def test_an_order_processed_at_the_edges_of_time_earns_as_if_undated(
    app: Flask, client: FlaskClient, shop: int, value: str
) -> None:
    # An earlier order first, so that a year-1 order has later history to re-tier.
    first = post_webhook(client, "orders/paid", paid_order(ORDER_ID + 1, price="10.00"))
    assert first.status_code == 200, first.get_data(as_text=True)
    response = post_webhook(client, "orders/paid", {**paid_order(), "processed_at": value})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ledger(app) == [("order_award", 10, 0), ("order_award", 40, 0)]
    with app.extensions["kanta"].db.read() as session:
        kept = session.scalars(select(Order.processed_at).where(Order.shopify_order_id == ORDER_ID))
        assert 1900 < kept.one().year < 3000  # the delivery's time, not the impossible one


@pytest.mark.parametrize("value", EDGES_OF_TIME)
def test_a_refund_processed_at_the_edges_of_time_reverses_as_if_undated(
    app: Flask, client: FlaskClient, shop: int, value: str
) -> None:
    order = paid_order()
    assert post_webhook(client, "orders/paid", order).status_code == 200
    refund = build_refund(
        refund_id=7_300_000_000_000_000_011, order=order, lines=[(order["line_items"][0]["id"], 1)]
    )
    response = post_webhook(client, "refunds/create", {**refund, "processed_at": value})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ledger(app) == [("order_award", 40, 0), ("refund_reversal", -40, 0)]

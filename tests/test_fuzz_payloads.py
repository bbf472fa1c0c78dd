"""Fuzzing what Shopify, or anyone, could send (hypothesis): any JSON body with a valid HMAC gets
a 200 or a clear 400; any headers and any session token get an answer below 500. Never a 5xx,
never a stack trace in a response, and a 4xx writes nothing (the database is compared before and
after). ``KANTA_FAULTS_HEAVY=1`` runs ten times the examples."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from decimal import Decimal
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstore.payloads import ID_BASE, LineSpec, build_customer, build_order
from devstore.signing import mint_admin_session_token, webhook_headers
from plugin.loyalty.orders import PayloadError, parse_order, parse_refund
from tests.conftest import API_KEY, API_SECRET, SHOP, post_webhook
from tests.test_webhooks import row_counts

SCALE = 10 if os.environ.get("KANTA_FAULTS_HEAVY") == "1" else 1
# What broke the intake before (NUL, lone surrogates, digits that are not ASCII), mixed into text.
poison_text = st.text(
    alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "²", "١", "７", "a", "1", " "]),
    max_size=6,
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.decimals(
        allow_nan=False, allow_infinity=False, places=4, max_value=10**20, min_value=-(10**20)
    )
    | st.text(max_size=20)
    | poison_text
    | st.integers(min_value=2**63 - 2, max_value=2**64)
    # Times a datetime cannot hold in UTC, or cannot move by a tier window.
    | st.sampled_from(
        ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00Z"]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)

ORDER_KEYS = [
    "id",
    "line_items",
    "shipping_lines",
    "customer",
    "test",
    "taxes_included",
    "source_name",
    "name",
    "currency",
    "total_price",
    "payment_gateway_names",
]
LINE_KEYS = [
    "id",
    "quantity",
    "price",
    "price_set",
    "discount_allocations",
    "tax_lines",
    "gift_card",
]


def shopify_like_orders() -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with Shopify's keys and arbitrary values: where parsers really get tested."""
    line = st.fixed_dictionaries({}, optional={k: json_values for k in LINE_KEYS})
    return st.fixed_dictionaries(
        {},
        optional={
            **{k: json_values for k in ORDER_KEYS},
            "line_items": st.lists(line, max_size=3) | json_values,
        },
    )


def mutated_real_orders() -> st.SearchStrategy[dict[str, Any]]:
    """A real order payload with one field, anywhere, replaced by something arbitrary."""
    base = build_order(
        order_id=ID_BASE + 99,
        shop_domain=SHOP,
        customer=build_customer(ID_BASE + 98, email="f@example.com", first_name="F", last_name="Z"),
        lines=[LineSpec("Mug", Decimal("12.00"), 2), LineSpec("Tea", Decimal("3.50"))],
    )

    def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found = [prefix] if prefix else []
        if isinstance(value, dict):
            for key, child in value.items():
                found += paths(child, (*prefix, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                found += paths(child, (*prefix, index))
        return found

    def replace(path: tuple[Any, ...], new: Any) -> dict[str, Any]:
        copy = json.loads(json.dumps(base))
        target = copy
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = new
        return copy  # type: ignore[no-any-return]

    return st.builds(replace, st.sampled_from(paths(base)), json_values)


@settings(max_examples=300 * SCALE, deadline=None)
@given(payload=shopify_like_orders() | mutated_real_orders() | json_values)
def test_the_order_and_refund_readers_either_read_or_refuse_with_a_payload_error(
    payload: Any,
) -> None:
    for reader in (parse_order, parse_refund):
        try:
            reader(payload)
        except PayloadError:
            pass


FIXTURES_EACH_EXAMPLE = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
TOPICS = [
    "orders/paid",
    "orders/cancelled",
    "orders/create",
    "orders/updated",
    "orders/fulfilled",
    "refunds/create",
    "customers/redact",
    "customers/data_request",
    "shop/redact",
    "app/scopes_update",
]


def compliance_like() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "shop_id": json_values,
            "shop_domain": json_values,
            "customer": st.fixed_dictionaries(
                {}, optional={"id": json_values, "email": json_values, "phone": json_values}
            )
            | json_values,
            "orders_to_redact": json_values,
            "orders_requested": json_values,
            "data_request": st.fixed_dictionaries({}, optional={"id": json_values}) | json_values,
            "current": json_values,
        },
    )


def assert_no_failure(response: Any) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text
    assert "Traceback" not in text
    assert "Error" not in text.replace("error", "")  # no exception class names either


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=FIXTURES_EACH_EXAMPLE)
@given(
    topic=st.sampled_from(TOPICS),
    payload=shopify_like_orders() | mutated_real_orders() | compliance_like() | json_values,
    ensure_ascii=st.booleans(),
)
def test_any_signed_body_gets_200_or_400_and_a_400_writes_nothing(
    app: Flask, client: FlaskClient, shop: int, topic: str, payload: Any, ensure_ascii: bool
) -> None:
    before = row_counts(app)
    text = json.dumps(payload, default=str, ensure_ascii=ensure_ascii)
    body = text.encode("utf-8", "surrogatepass" if not ensure_ascii else "strict")
    response = post_webhook(client, topic, None, body=body)
    assert_no_failure(response)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert row_counts(app) == before


# What a WSGI server can hand over: header values are Latin-1 text (NUL and "²" included).
header_text = st.text(
    alphabet=st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=60
)
HEADER_NAMES = [
    "X-Shopify-Topic",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",
    "X-Shopify-API-Version",
    "X-Shopify-Triggered-At",
    "X-Shopify-Event-Id",
    "Content-Length",
    "Transfer-Encoding",
    "Content-Type",
]


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=FIXTURES_EACH_EXAMPLE)
@given(
    changed=st.dictionaries(st.sampled_from(HEADER_NAMES), header_text, max_size=4),
    dropped=st.lists(st.sampled_from(HEADER_NAMES), max_size=2),
    resign=st.booleans(),
)
def test_any_headers_get_an_answer_below_500_and_a_4xx_writes_nothing(
    app: Flask,
    client: FlaskClient,
    shop: int,
    changed: dict[str, str],
    dropped: list[str],
    resign: bool,
) -> None:
    """Real order body, real signature, then headers replaced or dropped at random (and the
    signature sometimes kept valid, so the headers after it are reached too)."""
    body = json.dumps(
        build_order(
            order_id=ID_BASE + 97,
            shop_domain=SHOP,
            customer=build_customer(
                ID_BASE + 96, email="h@example.com", first_name="H", last_name="D"
            ),
            lines=[LineSpec("Cup", Decimal("5.00"))],
        )
    ).encode()
    headers = webhook_headers(
        topic="orders/paid", shop_domain=SHOP, body=body, secret=API_SECRET, api_version="2026-04"
    )
    headers.update(
        {k: v.replace("\x00", "") if k.startswith("Content") else v for k, v in changed.items()}
    )
    if resign and "X-Shopify-Hmac-Sha256" in changed:
        del changed["X-Shopify-Hmac-Sha256"]
        headers["X-Shopify-Hmac-Sha256"] = webhook_headers(
            topic="x", shop_domain=SHOP, body=body, secret=API_SECRET, api_version="x"
        )["X-Shopify-Hmac-Sha256"]
    for name in dropped:
        headers.pop(name, None)
    before = row_counts(app)
    try:
        response = client.post("/webhooks", data=body, headers=headers)
    except ValueError:
        return  # the test client itself refused the header (e.g. a bad Content-Length)
    assert_no_failure(response)
    if response.status_code >= 400:
        assert row_counts(app) == before


def hs256(claims: dict[str, Any]) -> str:
    """An HS256 JWT signed with the app secret, by hand: PyJWT's encoder refuses odd claims."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    body = json.dumps(claims, default=str).encode("utf-8", "surrogatepass")
    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(body)
    signature = hmac.new(API_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


claim_values = json_values | st.integers() | st.floats(allow_nan=False) | poison_text


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=FIXTURES_EACH_EXAMPLE)
@given(
    claims=st.dictionaries(
        st.sampled_from(["iss", "dest", "aud", "sub", "exp", "nbf", "iat", "sid", "jti"]),
        claim_values,
        max_size=9,
    ),
    keep=st.sets(st.sampled_from(["iss", "dest", "aud", "sub", "exp", "nbf", "iat", "sid"])),
    raw=st.none() | header_text,
    where=st.sampled_from(["header", "query"]),
)
def test_any_session_token_gets_an_answer_below_500_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    shop: int,
    claims: dict[str, Any],
    keep: set[str],
    raw: str | None,
    where: str,
) -> None:
    """Tokens signed with the app's own secret and arbitrary claims (some taken from a valid
    token), or arbitrary text; sent to the admin API and to the app home."""
    if raw is None:
        valid = jwt.decode(
            mint_admin_session_token(SHOP, API_KEY, API_SECRET),
            API_SECRET,
            algorithms=["HS256"],
            audience=API_KEY,
        )
        mixed = {**{k: v for k, v in valid.items() if k in keep}, **claims}
        token = hs256(mixed)
    else:
        token = raw
    before = row_counts(app)
    if where == "header":
        api = client.get("/api/admin/members/1", headers={"Authorization": f"Bearer {token}"})
        adjust = client.post(
            "/api/admin/members/1/adjustments",
            json={"points": 5, "reason": "fuzz"},
            headers={"Authorization": f"Bearer {token}"},
        )
        responses = [api, adjust]
    else:
        responses = [
            client.get("/", query_string={"embedded": "1", "shop": SHOP, "id_token": token})
        ]
    for response in responses:
        assert_no_failure(response)
    assert row_counts(app) == before

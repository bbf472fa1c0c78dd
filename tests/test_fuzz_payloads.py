"""Fuzzing what Shopify could send (hypothesis): any JSON body with a valid HMAC gets a 200 or a
clear 400 — never a 5xx, never a stack trace — and a 400 writes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstore.payloads import ID_BASE, LineSpec, build_customer, build_order
from plugin.loyalty.orders import PayloadError, parse_order, parse_refund
from tests.conftest import SHOP, post_webhook
from tests.test_webhooks import row_counts

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.decimals(
        allow_nan=False, allow_infinity=False, places=4, max_value=10**20, min_value=-(10**20)
    )
    | st.text(max_size=20)
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


@settings(max_examples=300, deadline=None)
@given(payload=shopify_like_orders() | mutated_real_orders() | json_values)
def test_the_order_and_refund_readers_either_read_or_refuse_with_a_payload_error(
    payload: Any,
) -> None:
    for reader in (parse_order, parse_refund):
        try:
            reader(payload)
        except PayloadError:
            pass


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    topic=st.sampled_from(["orders/paid", "orders/cancelled", "refunds/create", "orders/create"]),
    payload=shopify_like_orders() | mutated_real_orders() | json_values,
)
def test_any_signed_body_gets_200_or_400_and_a_400_writes_nothing(
    app: Flask, client: FlaskClient, shop: int, topic: str, payload: Any
) -> None:
    before = row_counts(app)
    body = json.dumps(payload, default=str).encode()
    response = post_webhook(client, topic, None, body=body)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    if response.status_code == 400:
        assert row_counts(app) == before

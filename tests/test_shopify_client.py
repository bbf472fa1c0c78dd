"""The Shopify gateway against the devstore: GraphQL errors become typed exceptions, a
GraphQL-level THROTTLED is waited out by the bucket's own numbers, and no token reaches a log."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from plugin.install import access_token_for
from plugin.models import Shop
from plugin.shopify.gateway import (
    SHOP_DOMAIN_RE,
    ShopifyGraphQLError,
    ShopifyThrottled,
    ShopifyUnauthorized,
    ShopifyUnavailable,
    ShopifyUserErrors,
    TokenGrant,
    is_valid_shop_domain,
)
from plugin.shopify.transport import BaseURLTransport
from tests.conftest import SHOP, Clock
from tests.shopify_fixtures import ShopifyStack

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

SHOP_QUERY = "query { shop { id name currencyCode } }"
METAFIELDS_SET = """
mutation SetPoints($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { id } userErrors { field message code } }
}
"""


@pytest.fixture
def stack(make_app: Callable[..., Flask], clock: Clock) -> ShopifyStack:
    return ShopifyStack(make_app, clock)


@pytest.fixture
def token(stack: ShopifyStack) -> str:
    grant = stack.store.issue_access_token(SHOP, expiring=True)
    access: str = grant["access_token"]
    return access


def test_query_returns_data(stack: ShopifyStack, token: str) -> None:
    data = stack.kanta.shopify.graphql(SHOP, token, SHOP_QUERY)

    assert data["shop"]["currencyCode"] == "USD"
    [call] = stack.store.graphql_calls
    assert call["root_field"] == "shop"
    assert call["access_token"] == token


def test_throttled_backs_off_then_succeeds(stack: ShopifyStack, token: str) -> None:
    stack.store.graphql_fail_next(2, "throttle")

    data = stack.kanta.shopify.graphql(SHOP, token, SHOP_QUERY)

    assert data["shop"]["name"]
    assert len(stack.waits) == 2
    assert [c["outcome"] for c in stack.store.graphql_calls] == ["throttled", "throttled", "ok"]


def test_wait_follows_the_bucket(make_app: Callable[..., Flask], clock: Clock) -> None:
    """An empty bucket: wait (requested − available) / restoreRate, as Shopify advises."""
    stack = ShopifyStack(make_app, clock)
    stack.store.graphql_bucket_size = 1.0  # smaller than a shop query's cost of 2
    stack.store.graphql_restore_rate = 0.5
    token = stack.store.issue_access_token(SHOP, expiring=True)["access_token"]

    with pytest.raises(ShopifyThrottled):
        stack.kanta.shopify.graphql(SHOP, token, SHOP_QUERY)

    # (2 − 1) / 0.5 = 2 s per try, every try, until the retries run out.
    assert stack.waits == [2.0] * stack.kanta.shopify.throttle_retries
    assert len(stack.store.graphql_calls) == stack.kanta.shopify.throttle_retries + 1


def test_wait_is_bounded(stack: ShopifyStack) -> None:
    gateway = stack.kanta.shopify
    huge = {"cost": {"requestedQueryCost": 1000, "throttleStatus": {
        "currentlyAvailable": 0, "restoreRate": 1, "maximumAvailable": 2000}}}  # fmt: skip
    assert gateway._throttle_wait(huge) == gateway.max_throttle_wait
    assert gateway._throttle_wait(None) == 1.0
    assert 0 < gateway._throttle_wait({"cost": {"requestedQueryCost": 1, "throttleStatus": {
        "currentlyAvailable": 100, "restoreRate": 100}}}) < 0.1  # fmt: skip


def test_bad_token_is_unauthorized(stack: ShopifyStack) -> None:
    with pytest.raises(ShopifyUnauthorized):
        stack.kanta.shopify.graphql(SHOP, "shpat_not_a_token", SHOP_QUERY)


def test_user_errors_are_raised_with_their_list(stack: ShopifyStack, token: str) -> None:
    stack.store.graphql_fail_next(1, "user_error")
    metafield = {"ownerId": "gid://shopify/Customer/1", "namespace": "kanta", "key": "points"}
    variables = {"metafields": [{**metafield, "type": "number_integer", "value": "5"}]}

    with pytest.raises(ShopifyUserErrors) as caught:
        stack.kanta.shopify.graphql(SHOP, token, METAFIELDS_SET, variables)

    assert caught.value.errors
    assert all("message" in e for e in caught.value.errors)


def test_server_error_is_unavailable(stack: ShopifyStack, token: str) -> None:
    stack.store.graphql_fail_next(1, "http500")
    with pytest.raises(ShopifyUnavailable):
        stack.kanta.shopify.graphql(SHOP, token, SHOP_QUERY)


def test_unknown_field_is_a_graphql_error(stack: ShopifyStack, token: str) -> None:
    with pytest.raises(ShopifyGraphQLError, match="doesn't exist"):
        stack.kanta.shopify.graphql(SHOP, token, "query { nothingHere { id } }")


def test_network_failure_is_unavailable(make_app: Callable[..., Flask]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = make_app(SHOPIFY_TRANSPORT=httpx.MockTransport(refuse))
    with pytest.raises(ShopifyUnavailable):
        app.extensions["kanta"].shopify.graphql(SHOP, "shpat_x", SHOP_QUERY)


def test_requests_go_to_the_configured_base_url(make_app: Callable[..., Flask]) -> None:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"data": {"shop": {"name": "x"}}})

    app = make_app(SHOPIFY_TRANSPORT=httpx.MockTransport(record))
    gateway = app.extensions["kanta"].shopify
    assert isinstance(gateway.http._transport, BaseURLTransport)

    gateway.graphql(SHOP, "shpat_x", SHOP_QUERY)

    assert seen == [f"http://devstore.test/{SHOP}/admin/api/2026-04/graphql.json"]


def test_refuses_to_address_a_bad_shop_domain(stack: ShopifyStack) -> None:
    with pytest.raises(ValueError, match="myshopify"):
        stack.kanta.shopify.graphql("shop.myshopify.com.evil.test", "t", SHOP_QUERY)


@pytest.mark.parametrize(
    ("domain", "valid"),
    [
        ("shop-one.myshopify.com", True),
        ("Shop1.myshopify.com", True),
        ("evil.com", False),
        ("shop.myshopify.com.evil.test", False),
        ("-shop.myshopify.com", False),
        ("shop.myshopify.com\n", False),
        ("https://shop.myshopify.com", False),
        ("sh_op.myshopify.com", False),
    ],
)
def test_shop_domain_validation_is_anchored(domain: str, valid: bool) -> None:
    assert is_valid_shop_domain(domain) is valid
    assert SHOP_DOMAIN_RE.pattern == r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$"


def test_tokens_never_reach_logs_or_reprs(
    stack: ShopifyStack, caplog: pytest.LogCaptureFixture, clock: Clock
) -> None:
    caplog.set_level(logging.DEBUG)
    assert stack.load_app_home().status_code == 200
    stack.store.graphql_fail_next(1, "throttle")
    clock.advance(minutes=58)
    with stack.kanta.db.read() as session:
        shop_id = session.scalars(select(Shop.id)).one()
    token = access_token_for(stack.kanta, shop_id)
    stack.kanta.shopify.graphql(SHOP, token, SHOP_QUERY)

    secrets = [token, stack.kanta.settings.api_secret]
    secrets += [r["refresh_token"] for r in stack.token_requests if "refresh_token" in r]
    for record in caplog.records:
        text = record.getMessage()
        assert not any(s in text for s in secrets), text
    grant = TokenGrant(SHOP, "shpat_secret", "read_orders", None, "shprt_secret", None)
    assert "secret" not in repr(grant)

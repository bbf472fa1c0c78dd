"""Fixtures for the devstore tests: a store on a controllable clock, its Flask app, an httpx
client that reaches it the way Kanta does (``https://{shop}/...`` → ``/{shop}/...``), and a fake
Kanta webhook endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import flask
import httpx
import pytest
from devstore_testkit import (
    API_KEY,
    API_SECRET,
    APP_URL,
    SHOP,
    Clock,
    FakeKanta,
    ShopifyRewriteTransport,
)

from devstore import DevStore, WebhookSender, create_devstore_app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> DevStore:
    return DevStore(api_key=API_KEY, api_secret=API_SECRET, clock=clock)


@pytest.fixture
def kanta() -> FakeKanta:
    return FakeKanta()


@pytest.fixture
def sender(kanta: FakeKanta) -> Iterator[WebhookSender]:
    with httpx.Client(transport=httpx.MockTransport(kanta.handler)) as client:
        yield WebhookSender(
            client=client,
            app_url=APP_URL,
            api_secret=API_SECRET,
            synchronous=True,
            retry_delays=(1, 5, 30),
        )


@pytest.fixture
def devstore_app(store: DevStore, sender: WebhookSender) -> flask.Flask:
    app = create_devstore_app(
        store, sender, app_url=APP_URL, api_key=API_KEY, api_secret=API_SECRET
    )
    app.config["TESTING"] = True
    return app


@pytest.fixture
def shopify_http(devstore_app: flask.Flask) -> Iterator[httpx.Client]:
    """What Kanta's rewriting client looks like: talks to 'Shopify' at https://{shop}/..."""
    with httpx.Client(transport=ShopifyRewriteTransport(devstore_app)) as client:
        yield client


@pytest.fixture
def graphql(shopify_http: httpx.Client) -> Callable[..., httpx.Response]:
    def call(
        token: str | None, query: str, variables: dict[str, object] | None = None, shop: str = SHOP
    ) -> httpx.Response:
        headers = {"X-Shopify-Access-Token": token} if token else {}
        return shopify_http.post(
            f"https://{shop}/admin/api/2026-04/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )

    return call


@pytest.fixture
def offline_token(store: DevStore) -> str:
    token: str = store.issue_access_token(SHOP, expiring=True)["access_token"]
    return token

"""Building blocks for tests that talk to the devstore through Kanta's real Shopify client."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from flask import Flask

from devstore.signing import mint_admin_session_token
from devstore.store import DevStore
from devstore.web import create_devstore_app
from devstore.webhooks import WebhookSender
from tests.conftest import API_KEY, API_SECRET, SHOP

APP_URL = "https://kanta.example"


class RecordingTransport(httpx.BaseTransport):
    """Passes requests on, noting each token-endpoint body (to count exchanges and refreshes)."""

    def __init__(self, inner: httpx.BaseTransport, stack: ShopifyStack) -> None:
        self._inner = inner
        self._stack = stack

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/admin/oauth/access_token"):
            self._stack.token_requests.append(json.loads(request.read()))
            if self._stack.token_endpoint_down:
                return httpx.Response(503, json={"errors": "Service unavailable"})
        return self._inner.handle_request(request)


class ShopifyStack:
    """A devstore (on the test clock) and a Kanta app whose gateway talks to it in-process;
    the devstore's webhooks go to that Kanta app, synchronously."""

    def __init__(self, make_app: Callable[..., Flask], clock: Any, **config: Any) -> None:
        self.store = DevStore(api_key=API_KEY, api_secret=API_SECRET, shop_domain=SHOP, clock=clock)
        self.sender = WebhookSender(
            client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))),
            app_url=APP_URL,
            api_secret=API_SECRET,
            synchronous=True,
            retry_delays=(),
        )
        self.devstore_app = create_devstore_app(
            self.store, self.sender, app_url=APP_URL, api_key=API_KEY, api_secret=API_SECRET
        )
        self.token_requests: list[dict[str, Any]] = []
        self.token_endpoint_down = False
        transport = RecordingTransport(httpx.WSGITransport(app=self.devstore_app), self)
        self.app = make_app(SHOPIFY_TRANSPORT=transport, **config)
        self.sender.client = httpx.Client(transport=httpx.WSGITransport(app=self.app))
        self.kanta = self.app.extensions["kanta"]
        self.waits: list[float] = []
        self.kanta.shopify.sleep = self.waits.append
        self.client = self.app.test_client()

    def id_token(self, shop: str = SHOP, **kwargs: Any) -> str:
        """An admin session token both checkers accept: ``shopifyapp`` checks it against the wall
        clock, the devstore against the test clock, so its window spans both."""
        if "now" in kwargs:
            return mint_admin_session_token(shop, API_KEY, API_SECRET, **kwargs)
        wall, simulated = datetime.now(UTC), self.store.now()
        start, end = min(wall, simulated), max(wall, simulated)
        lifetime = 60 + int((end - start).total_seconds())
        return mint_admin_session_token(
            shop, API_KEY, API_SECRET, now=start, lifetime=lifetime, **kwargs
        )

    def load_app_home(self, shop: str = SHOP, token: str | None = None) -> Any:
        id_token = token if token is not None else self.id_token(shop)
        return self.client.get(
            "/", query_string={"embedded": "1", "shop": shop, "id_token": id_token}
        )

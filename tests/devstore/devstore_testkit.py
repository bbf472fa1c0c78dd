"""Shared helpers of the devstore tests (constants, a settable clock, the Shopify-rewriting
transport, a fake Kanta webhook endpoint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import flask
import httpx

API_KEY = "kanta-test-client-id"
API_SECRET = "shpss_test_secret_0123456789abcdef0123456789"
SHOP = "kanta-demo.myshopify.com"
APP_URL = "https://kanta.test"


class Clock:
    """A settable UTC clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ShopifyRewriteTransport(httpx.BaseTransport):
    """Send ``https://X.myshopify.com/path`` to ``/X.myshopify.com/path`` of a WSGI app."""

    def __init__(self, app: flask.Flask) -> None:
        self._inner = httpx.WSGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host.endswith(".myshopify.com"):
            request.url = request.url.copy_with(
                scheme="http", host="devstore.test", path=f"/{host}{request.url.path}"
            )
        return self._inner.handle_request(request)


@dataclass
class FakeKanta:
    """Records webhook requests and answers with scripted status codes (then 200)."""

    script: list[int] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        status = self.script.pop(0) if self.script else 200
        return httpx.Response(status, text="ok" if status < 300 else "boom")

"""The one client Kanta uses for Shopify: request verification, token exchange and refresh,
and Admin GraphQL, all through ``shopifyapp`` with a shared HTTP client."""

from __future__ import annotations

import httpx
from shopify_app import ShopifyApp

from ..settings import Settings
from .transport import BaseURLTransport


class ShopifyGateway:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.app = ShopifyApp(
            client_id=settings.api_key,
            client_secret=settings.api_secret,
            old_client_secret=settings.old_api_secret,
        )
        self._transport = transport
        self._client: httpx.Client | None = None

    def set_transport(self, transport: httpx.BaseTransport) -> None:
        """Configure where Shopify-bound requests go (the demo mounts its simulator here)."""
        self._transport = transport
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def http(self) -> httpx.Client:
        """A shared, thread-safe HTTP client; requests go to Shopify or the configured base URL."""
        if self._client is None:
            transport = self._transport
            if transport is None and self.settings.shopify_api_base_url:
                transport = BaseURLTransport(self.settings.shopify_api_base_url)
            elif transport is not None and self.settings.shopify_api_base_url:
                transport = BaseURLTransport(self.settings.shopify_api_base_url, transport)
            self._client = httpx.Client(transport=transport, timeout=httpx.Timeout(10.0))
        return self._client

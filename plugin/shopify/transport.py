"""Point Shopify-bound HTTP at another base URL (the local demo store, in the demo and tests).

``shopifyapp`` builds URLs as ``https://{shop}.myshopify.com/...``. This transport rewrites them to
``{base_url}/{shop}.myshopify.com/...`` and hands the request to an inner transport (a real
HTTP transport, or ``httpx.WSGITransport`` for an in-process simulator). It is configuration:
production code never asks whether it is talking to Shopify or to the simulator.
"""

from __future__ import annotations

import httpx


class BaseURLTransport(httpx.BaseTransport):
    def __init__(self, base_url: str, inner: httpx.BaseTransport | None = None) -> None:
        self._base = httpx.URL(base_url.rstrip("/"))
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if not host.endswith(".myshopify.com"):
            return self._inner.handle_request(request)
        base_path = self._base.raw_path.decode().rstrip("/")
        path = f"{base_path}/{host}{request.url.raw_path.decode()}"
        request.url = self._base.copy_with(raw_path=path.encode())
        request.headers["Host"] = self._base.netloc.decode()
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()

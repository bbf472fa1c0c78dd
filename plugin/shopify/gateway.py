"""The one client Kanta uses for Shopify: request verification, token exchange and refresh,
and Admin GraphQL, all through ``shopifyapp`` with a shared HTTP client.

``shopifyapp`` returns result values; this module turns its failures into typed exceptions so
callers can tell "retry later" (``ShopifyUnavailable``, ``ShopifyThrottled``) from "the merchant
must reopen the app" (``RefreshTokenRejected``) from "our request was wrong"
(``ShopifyUserErrors``, ``ShopifyGraphQLError``). Nothing here logs a token or a secret: only
``shopifyapp``'s result codes, whose own logs are redacted.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from shopify_app import IdTokenDetails, ShopifyApp

from ..settings import Settings
from .transport import BaseURLTransport

log = logging.getLogger(__name__)

# Anchored: the unanchored form in Shopify's own docs lets ``shop.myshopify.com.evil.test`` in.
SHOP_DOMAIN_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")


class ShopifyError(Exception):
    """A call to Shopify failed; ``code`` is ``shopifyapp``'s result code (never a secret)."""

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


class ShopifyThrottled(ShopifyError):
    """The GraphQL cost bucket stayed empty through every retry (or HTTP 429 persisted)."""


class ShopifyUnauthorized(ShopifyError):
    """The access token (or the app's credentials) was refused: 401 / ``invalid_client``."""


class ShopifyUnavailable(ShopifyError):
    """Network error, timeout or 5xx: try again later."""


class ShopifyGraphQLError(ShopifyError):
    """Top-level GraphQL ``errors`` other than throttling (a query Shopify could not run)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages) or "GraphQL errors", code="graphql_errors")
        self.messages = messages


class ShopifyUserErrors(ShopifyError):
    """A mutation ran but refused its input: ``userErrors`` from the payload."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        text = "; ".join(str(e.get("message", e)) for e in errors)
        super().__init__(text or "userErrors", code="user_errors")
        self.errors = errors


class InvalidIdToken(ShopifyError):
    """Shopify refused the session (ID) token in a token exchange (``invalid_subject_token``)."""


class RefreshTokenRejected(ShopifyError):
    """The refresh token is dead (``invalid_grant`` or expired): the merchant must reopen the app,
    whose load exchanges a fresh ID token."""


def is_valid_shop_domain(domain: str) -> bool:
    return bool(SHOP_DOMAIN_RE.fullmatch(domain))


def shop_domain_from_dest(dest: str) -> str:
    """``https://x.myshopify.com`` (an ID token's ``dest``) → ``x.myshopify.com``, validated."""
    domain = dest.removeprefix("https://").removeprefix("http://").rstrip("/")
    if not is_valid_shop_domain(domain):
        raise ShopifyError("the session token names no valid *.myshopify.com shop", "invalid_dest")
    return domain


def _shop_name(shop_domain: str) -> str:
    # shopifyapp addresses shops by name and appends ``.myshopify.com`` itself.
    if not is_valid_shop_domain(shop_domain):
        raise ValueError("not a *.myshopify.com shop domain")
    return shop_domain.removesuffix(".myshopify.com")


@dataclass(frozen=True)
class TokenGrant:
    """An offline access token as Shopify granted it. Lifetimes are relative (``expires_in``):
    the caller turns them into times with its own clock."""

    shop_domain: str
    access_token: str
    scope: str
    expires_in: timedelta | None
    refresh_token: str | None
    refresh_token_expires_in: timedelta | None

    def __repr__(self) -> str:  # tokens never end up in a log line or a traceback
        return (
            f"TokenGrant(shop_domain={self.shop_domain!r}, scope={self.scope!r}, "
            f"expires_in={self.expires_in}, refreshable={self.refresh_token is not None})"
        )


def _remaining(iso: str | None) -> timedelta | None:
    """``shopifyapp`` turns ``expires_in`` into an absolute wall-clock time; undo that."""
    if not iso:
        return None
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    seconds = round((moment - datetime.now(UTC)).total_seconds())
    return timedelta(seconds=max(seconds, 0))


class ShopifyGateway:
    """One per app. ``sleep`` is injectable so tests can record throttling back-off."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        throttle_retries: int = 4,
        max_throttle_wait: float = 10.0,
    ) -> None:
        self.settings = settings
        self.app = ShopifyApp(
            client_id=settings.api_key,
            client_secret=settings.api_secret,
            old_client_secret=settings.old_api_secret,
        )
        self.sleep = sleep
        self.throttle_retries = throttle_retries
        self.max_throttle_wait = max_throttle_wait
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

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # ------------------------------------------------------------------ tokens

    def exchange_id_token(self, id_token: IdTokenDetails | dict[str, Any]) -> TokenGrant:
        """Token exchange (reference §1.6) of a verified App Bridge ID token for an **expiring
        offline** token."""
        claims = id_token.claims if isinstance(id_token, IdTokenDetails) else id_token["claims"]
        domain = shop_domain_from_dest(str(claims.get("dest", "")))
        result = self.app.exchange_using_token_exchange(
            "offline", id_token=id_token, expiring=True, http_client=self.http
        )
        if not result.ok or result.access_token is None:
            code = result.log.code
            log.warning("token exchange for %s failed: %s", domain, code)
            if code == "invalid_subject_token":
                raise InvalidIdToken("Shopify refused the session token", code)
            if code == "invalid_client":
                raise ShopifyUnauthorized(
                    "Shopify refused the app credentials (or the app is uninstalled)", code
                )
            if code in ("network_error", "rate_limit_exceeded"):
                raise ShopifyUnavailable(f"token exchange failed: {code}", code)
            raise ShopifyError(f"token exchange failed: {code}", code)
        return self._grant(domain, result.access_token)

    def refresh(self, shop_domain: str, refresh_token: str) -> TokenGrant:
        """Rotate an expiring offline token (reference §1.7). Always calls Shopify: the caller
        decided it is time (``shopifyapp`` would skip while > 60 s remain, so no ``expires`` is
        passed). The used refresh token dies; store the returned pair before anything else."""
        result = self.app.refresh_token_exchanged_access_token(
            {
                "shop": _shop_name(shop_domain),
                "refresh_token": refresh_token,
                "expires": "",
                "refresh_token_expires": "",
                "access_mode": "offline",
            },
            http_client=self.http,
        )
        if not result.ok or result.access_token is None:
            code = result.log.code
            log.warning("token refresh for %s failed: %s", shop_domain, code)
            if code in ("invalid_grant", "refresh_token_expired"):
                raise RefreshTokenRejected("Shopify refused the refresh token", code)
            if code == "invalid_client":
                raise ShopifyUnauthorized(
                    "Shopify refused the app credentials (or the app is uninstalled)", code
                )
            if code in ("network_error", "server_error"):
                raise ShopifyUnavailable(f"token refresh failed: {code}", code)
            raise ShopifyError(f"token refresh failed: {code}", code)
        return self._grant(shop_domain, result.access_token)

    @staticmethod
    def _grant(shop_domain: str, token: Any) -> TokenGrant:
        return TokenGrant(
            shop_domain=shop_domain,
            access_token=token.token,
            scope=token.scope or "",
            expires_in=_remaining(token.expires),
            refresh_token=token.refresh_token or None,
            refresh_token_expires_in=_remaining(token.refresh_token_expires),
        )

    # ------------------------------------------------------------------ Admin GraphQL

    def graphql(
        self,
        shop_domain: str,
        access_token: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        retry_server_errors: bool = True,
    ) -> dict[str, Any]:
        """Run one Admin GraphQL operation and return its ``data``.

        ``shopifyapp`` retries HTTP 429/5xx itself; a GraphQL-level ``THROTTLED`` (HTTP 200)
        comes back as a plain failure, so this backs off by the bucket's own numbers
        (reference §5.4) and tries again, up to ``throttle_retries`` times (a throttled call
        did not run, so repeating it is always safe). ``retry_server_errors=False`` is for
        mutations that must not run twice: a 5xx may come after the mutation ran, so it is
        reported (``ShopifyUnavailable``) for the caller to reconcile instead of repeated.
        """
        shop = _shop_name(shop_domain)
        for attempt in range(self.throttle_retries + 1):
            result = self.app.admin_graphql_request(
                query,
                shop=shop,
                access_token=access_token,
                api_version=self.settings.api_version,
                variables=variables,
                max_retries=2 if retry_server_errors else 0,
                http_client=self.http,
            )
            if result.ok:
                data = result.data or {}
                user_errors = _user_errors(data)
                if user_errors:
                    raise ShopifyUserErrors(user_errors)
                return data
            status, code = result.response.status, result.log.code
            if code == "graphql_errors":
                body = _json_body(result.response.body)
                if not _is_throttled(body):
                    raise ShopifyGraphQLError(_error_messages(body))
                if attempt == self.throttle_retries:
                    break
                wait = self._throttle_wait(body.get("extensions"))
                log.info("Shopify throttled %s; retrying in %.2f s", shop_domain, wait)
                self.sleep(wait)
                continue
            log.warning("GraphQL call for %s failed: %s", shop_domain, code)
            if status == 401 or code == "unauthorized":
                raise ShopifyUnauthorized("Shopify refused the access token", code)
            if status == 429:
                raise ShopifyThrottled("Shopify rate limit (HTTP 429) persisted", code)
            if status == 0 or status >= 500:
                raise ShopifyUnavailable(f"Shopify unavailable: {code}", code)
            raise ShopifyError(f"GraphQL call failed: {code}", code)
        raise ShopifyThrottled(
            f"Shopify kept throttling after {self.throttle_retries} retries", "throttled"
        )

    def _throttle_wait(self, extensions: Any) -> float:
        """Seconds until the bucket holds the query's cost: (requested − available) / rate."""
        try:
            cost = extensions["cost"]
            status = cost["throttleStatus"]
            needed = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
            wait = needed / float(status["restoreRate"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            wait = 1.0
        return min(max(wait, 0.05), self.max_throttle_wait)


def _json_body(body: str) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _is_throttled(body: dict[str, Any]) -> bool:
    errors = body.get("errors")
    if not isinstance(errors, list):
        return False
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    )


def _error_messages(body: dict[str, Any]) -> list[str]:
    errors = body.get("errors")
    if isinstance(errors, list):
        return [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
    return [str(errors)] if errors else []


def _user_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``userErrors`` of every root field of a mutation's payload."""
    found: list[dict[str, Any]] = []
    for payload in data.values():
        if isinstance(payload, dict):
            errors = payload.get("userErrors")
            if isinstance(errors, list):
                found.extend(e for e in errors if isinstance(e, dict))
    return found

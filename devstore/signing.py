"""Signatures Shopify puts on what it sends: webhook HMACs and session (ID) tokens.

Everything here follows the reference doc (`/work/shared/reference/shopify-platform.md`):

- §3.1/§3.2: webhook headers and ``base64(HMAC-SHA256(client_secret, raw_body))``.
- §2.1: App Bridge (admin) ID tokens — HS256 with the client secret, 1-minute life, ``iss``/``dest``
  are URLs, ``sub`` is the staff user id, ``sid`` is a 64-hex session id.
- §2.2: checkout and customer-account UI extension tokens — 5-minute life, ``dest`` is a *bare*
  domain, no ``iss``/``sid``, ``sub`` (a customer GID) only when the buyer is logged in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime

import jwt

__all__ = [
    "mint_admin_session_token",
    "mint_checkout_session_token",
    "mint_customer_account_session_token",
    "shopify_timestamp",
    "sign_webhook",
    "webhook_headers",
]


def sign_webhook(body: bytes, secret: str) -> str:
    """Return the ``X-Shopify-Hmac-Sha256`` value for ``body``: base64 of the raw HMAC digest."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("naive datetime given; pass a timezone-aware UTC datetime")
    return now


def mint_admin_session_token(
    shop_domain: str,
    api_key: str,
    secret: str,
    *,
    user_id: str = "1",
    lifetime: int = 60,
    now: datetime | None = None,
) -> str:
    """Mint an App Bridge ID token as the admin hands it to an embedded app (reference §2.1)."""
    issued = int(_now(now).timestamp())
    claims = {
        "iss": f"https://{shop_domain}/admin",
        "dest": f"https://{shop_domain}",
        "aud": api_key,
        "sub": user_id,
        "exp": issued + lifetime,
        "nbf": issued,
        "iat": issued,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(32),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def mint_checkout_session_token(
    shop_domain: str,
    api_key: str,
    secret: str,
    *,
    customer_id: int | None = None,
    lifetime: int = 300,
    now: datetime | None = None,
) -> str:
    """Mint a checkout UI extension session token (reference §2.2): no ``iss``, no ``sid``."""
    issued = int(_now(now).timestamp())
    claims: dict[str, object] = {
        "dest": shop_domain,
        "aud": api_key,
        "exp": issued + lifetime,
        "nbf": issued,
        "iat": issued,
        "jti": str(uuid.uuid4()),
    }
    # Guests get no `sub` at all, not a null one (§2.2, Ruby PR #1369).
    if customer_id is not None:
        claims["sub"] = f"gid://shopify/Customer/{customer_id}"
    return jwt.encode(claims, secret, algorithm="HS256")


def mint_customer_account_session_token(
    shop_domain: str,
    api_key: str,
    secret: str,
    *,
    customer_id: int | None = None,
    lifetime: int = 300,
    now: datetime | None = None,
) -> str:
    """Mint a customer-account UI extension session token: the same shape as a checkout one
    (reference §2.2, "same shape for customer-account extensions")."""
    return mint_checkout_session_token(
        shop_domain, api_key, secret, customer_id=customer_id, lifetime=lifetime, now=now
    )


def shopify_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with a ``Z`` suffix, as in ``X-Shopify-Triggered-At``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def webhook_headers(
    *,
    topic: str,
    shop_domain: str,
    body: bytes,
    secret: str,
    api_version: str,
    webhook_id: str | None = None,
    event_id: str | None = None,
    triggered_at: datetime | None = None,
) -> dict[str, str]:
    """All headers of an HTTPS webhook delivery (reference §3.1), signed over ``body``."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign_webhook(body, secret),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": shopify_timestamp(_now(triggered_at)),
    }

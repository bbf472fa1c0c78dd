"""The token endpoint, ``POST https://{shop}/admin/oauth/access_token`` (reference §1.6, §1.7).

Implemented grants:

- token exchange of an App Bridge ID token (``subject_token_type`` ``…:id_token``) for an offline
  token — expiring (``expiring=1``: 1 h access + 90-day rotating refresh token) or not — or an
  online token;
- migration of a non-expiring offline token to an expiring one (``subject_token_type``
  ``…:offline-access-token``), which revokes the old token;
- ``grant_type=refresh_token`` rotation: the used refresh token dies (``invalid_grant`` on reuse),
  the previous access token lives until its own expiry, and a new expiring token retires every
  other refresh token of the app+store.

Errors are OAuth-style JSON with HTTP 400: ``invalid_client`` (bad credentials *or app not
installed*), ``invalid_subject_token``, ``invalid_grant``, ``invalid_request``,
``unsupported_grant_type``. The authorization-code grant is not simulated.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import jwt

from devstore.store import DevStore

__all__ = ["handle_access_token_request"]

JSON = dict[str, Any]
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN = "urn:shopify:params:oauth:token-type:online-access-token"
LEEWAY_SECONDS = 10


def _error(error: str, description: str) -> tuple[int, JSON]:
    return 400, {"error": error, "error_description": description}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true"}


def _verify_id_token(store: DevStore, shop_domain: str, token: str) -> str | None:
    """Return why the ID token is unacceptable, or ``None`` if it is good."""
    try:
        claims = jwt.decode(
            token,
            store.api_secret,
            algorithms=["HS256"],
            audience=store.api_key,
            # Time is checked below against the store's clock, which tests may move.
            options={
                "require": ["exp", "nbf", "aud", "dest", "iss"],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as exc:
        return f"The subject token is invalid: {exc}"
    now = store.now().timestamp()
    if float(claims["exp"]) < now - LEEWAY_SECONDS:
        return "The subject token has expired"
    if float(claims["nbf"]) > now + LEEWAY_SECONDS:
        return "The subject token is not yet valid"
    dest = str(claims["dest"]).removeprefix("https://")
    if dest != shop_domain:
        return "The subject token was issued for a different shop"
    if str(claims["iss"]).removeprefix("https://").split("/", 1)[0] != dest:
        return "The subject token issuer does not match its destination"
    return None


def handle_access_token_request(
    store: DevStore, shop_domain: str, params: Mapping[str, Any]
) -> tuple[int, JSON]:
    """Answer one token-endpoint request; ``params`` is the JSON or form body."""
    if shop_domain not in store.shop_domains():
        return 404, {"errors": "Not Found"}
    client_id = str(params.get("client_id") or "")
    client_secret = str(params.get("client_secret") or "")
    credentials_ok = hmac.compare_digest(client_id, store.api_key) and hmac.compare_digest(
        client_secret, store.api_secret
    )
    if not credentials_ok or not store.is_installed(shop_domain):
        return _error(
            "invalid_client", "Client credentials are invalid or the app is not installed"
        )

    grant_type = params.get("grant_type")
    if grant_type == "refresh_token":
        refresh_token = str(params.get("refresh_token") or "")
        response = store.refresh_access_token(shop_domain, refresh_token)
        if response is None:
            return _error("invalid_grant", "The refresh token is invalid, expired or already used")
        return 200, response
    if grant_type != TOKEN_EXCHANGE:
        return _error("unsupported_grant_type", f"Unsupported grant type: {grant_type}")

    subject_token = str(params.get("subject_token") or "")
    subject_type = params.get("subject_token_type") or ID_TOKEN
    requested = params.get("requested_token_type") or OFFLINE_TOKEN
    expiring = _flag(params.get("expiring", 0))
    if requested not in {OFFLINE_TOKEN, ONLINE_TOKEN}:
        return _error("invalid_request", f"Unsupported requested_token_type: {requested}")

    if subject_type == OFFLINE_TOKEN:
        # Migration of a non-expiring offline token (§1.7): irreversible, old token revoked.
        if requested != OFFLINE_TOKEN or not expiring:
            return _error("invalid_request", "Offline token migration requires expiring=1")
        if not store.revoke_offline_token(shop_domain, subject_token):
            return _error("invalid_subject_token", "The subject token is not a valid offline token")
        return 200, store.issue_access_token(shop_domain, expiring=True)
    if subject_type != ID_TOKEN:
        return _error("invalid_request", f"Unsupported subject_token_type: {subject_type}")

    problem = _verify_id_token(store, shop_domain, subject_token)
    if problem is not None:
        return _error("invalid_subject_token", problem)
    if requested == ONLINE_TOKEN:
        return 200, store.issue_access_token(shop_domain, expiring=True, online=True)
    return 200, store.issue_access_token(shop_domain, expiring=expiring)

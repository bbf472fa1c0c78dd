"""Who is calling: App Bridge session tokens for the admin, checkout tokens for the widget.

Verification is ``shopifyapp``'s (HS256 with the app secret, ``aud`` = API key, 10 s leeway,
secret rotation). Here we only turn its result into the shop row the caller may touch: one shop's
token never reaches another shop's data because every query below starts from this row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from flask import Response, abort, make_response, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Shop
from .runtime import kanta

# Where a document request without an ID token is sent to get one (served by app_home).
PATCH_ID_TOKEN_PATH = "/auth/patch-id-token"


@dataclass(frozen=True)
class AdminCaller:
    shop_domain: str
    user_id: str | None


def public_url() -> str:
    """This request's URL on the app's configured address (``SHOPIFY_APP_URL``), never on the
    Host header: ``shopifyapp`` builds redirects from the URL it is given, and a forged Host
    would send a browser, with a fresh ID token, to another site."""
    query = request.query_string.decode("latin-1")
    return kanta().settings.app_url + request.path + (f"?{query}" if query else "")


def _request_input() -> dict[str, object]:
    # The query is left out: a bearer token comes from the Authorization header only, never
    # from an ``id_token`` parameter (shopifyapp falls back to it when the header is empty).
    return {
        "method": request.method,
        "headers": dict(request.headers),
        "url": kanta().settings.app_url + request.path,
        "body": "",
    }


def token_shape_ok(token: str) -> bool:
    """Whether ``token`` is shaped like one of Shopify's, judged on its unverified claims.

    Runs before ``shopifyapp`` sees the token: it fails with an exception (a 500) on a signed
    token whose ``dest`` is not a string. Only ever a reason to refuse; trust comes from the
    verification after it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return True  # not a JWT at all: shopifyapp refuses it cleanly
    return has_required_claims(claims)


def has_required_claims(claims: Mapping[str, Any]) -> bool:
    """``exp``, ``nbf`` (numbers) and ``dest`` must be present. PyJWT checks ``exp``/``nbf`` only
    when a token carries them (and reads ``"exp": "9999999999"`` as a number); every token
    Shopify signs has all three, so a token without them is not one of Shopify's."""
    exp, nbf, dest = claims.get("exp"), claims.get("nbf"), claims.get("dest")
    return (
        all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, nbf))
        and isinstance(dest, str)
        and bool(dest)
    )


def is_admin_session(claims: Mapping[str, Any]) -> bool:
    """True only for an App Bridge (admin) ID token.

    ``shopifyapp``'s app-home check verifies the signature, ``exp``/``nbf`` and ``aud``, but
    checkout, customer-account and POS extension tokens are signed with the same secret for the
    same audience. Only admin tokens carry ``iss`` (the shop's admin URL, same host as ``dest``)
    and ``sid``; a shopper's checkout token has neither and must never open the admin.
    """
    if not has_required_claims(claims):
        return False
    iss, dest, sid = claims.get("iss"), claims.get("dest"), claims.get("sid")
    if not (isinstance(iss, str) and isinstance(dest, str) and isinstance(sid, str) and sid):
        return False
    iss_url, dest_url = urlsplit(iss), urlsplit(dest)
    return (
        dest_url.scheme == "https"
        and iss_url.scheme == "https"
        and bool(dest_url.hostname)
        and iss_url.hostname == dest_url.hostname
        and iss_url.path.rstrip("/") == "/admin"
    )


def admin_caller() -> AdminCaller:
    """Verify the ``Authorization: Bearer`` App Bridge token or abort with 401."""
    header = request.headers.get("Authorization", "")
    result = (
        kanta().shopify.app.verify_app_home_req(
            _request_input(),  # type: ignore[arg-type]
            PATCH_ID_TOKEN_PATH,
        )
        if header.startswith("Bearer ") and header[7:].strip() and token_shape_ok(header[7:])
        else None
    )
    if (
        result is None
        or not result.ok
        or not result.shop
        or result.id_token is None
        or not is_admin_session(result.id_token.claims)
    ):
        response: Response = make_response({"error": "invalid or expired session token"}, 401)
        # Tells App Bridge to fetch a new token and retry.
        response.headers["X-Shopify-Retry-Invalid-Session-Request"] = "1"
        abort(response)
    return AdminCaller(shop_domain=f"{result.shop}.myshopify.com", user_id=result.user_id)


def installed_shop(session: Session, domain: str) -> Shop:
    shop = session.scalars(select(Shop).where(Shop.domain == domain)).one_or_none()
    if shop is None or not shop.is_installed:
        abort(refuse_uninstalled())
    return shop


def refuse_uninstalled() -> Response:
    return make_response({"error": "Kanta is not installed on this shop"}, 403)

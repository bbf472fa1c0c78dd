"""Who is calling: App Bridge session tokens for the admin, checkout tokens for the widget.

Verification is ``shopifyapp``'s (HS256 with the app secret, ``aud`` = API key, 10 s leeway,
secret rotation). Here we only turn its result into the shop row the caller may touch: one shop's
token never reaches another shop's data because every query below starts from this row.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _request_input() -> dict[str, object]:
    return {
        "method": request.method,
        "headers": dict(request.headers),
        "url": request.url,
        "body": "",
    }


def admin_caller() -> AdminCaller:
    """Verify the ``Authorization: Bearer`` App Bridge token or abort with 401."""
    result = kanta().shopify.app.verify_app_home_req(
        _request_input(),  # type: ignore[arg-type]
        PATCH_ID_TOKEN_PATH,
    )
    if not result.ok or not result.shop or request.headers.get("Authorization") is None:
        response: Response = make_response({"error": "invalid or expired session token"}, 401)
        # Tells App Bridge to fetch a new token and retry.
        response.headers["X-Shopify-Retry-Invalid-Session-Request"] = "1"
        abort(response)
    return AdminCaller(shop_domain=f"{result.shop}.myshopify.com", user_id=result.user_id)


def installed_shop(session: Session, domain: str) -> Shop:
    shop = session.scalars(select(Shop).where(Shop.domain == domain)).one_or_none()
    if shop is None or not shop.is_installed:
        abort(make_response({"error": "Kanta is not installed on this shop"}, 403))
    return shop

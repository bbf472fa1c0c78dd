"""Who is calling the widget API: a checkout or customer-account extension's session token.

``shopifyapp`` verifies it (HS256 with the app secret, ``aud`` = API key, ``exp``/``nbf`` with
10 s leeway, secret rotation). On top of that, here: the token must carry ``exp`` and ``nbf``,
name a valid ``*.myshopify.com`` shop in ``dest``, and not be an admin (App Bridge) token; the
customer is **only** the token's ``sub`` (``gid://shopify/Customer/<id>``), absent for a guest.

A checkout reuses one token for minutes and calls several times with it, and the verification
was a third of a cached answer's time (bench/README.md). So a token that passed every check is
remembered, per exact ``Authorization`` header, until its own ``exp`` (never past it, not even
by the verifier's 10 s leeway), in a bounded LRU per app; a token seen for the first time, or
one that failed, is verified in full as before. Failures are never remembered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Response, abort, make_response, request

from ..auth import is_admin_session
from ..runtime import kanta
from ..shopify.gateway import ShopifyError, shop_domain_from_dest
from .cache import UntilLRU

CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([1-9][0-9]{0,18})")
MAX_ID = 2**63 - 1
VERIFIED_TOKENS = 50_000  # entries; a few MB at most


@dataclass(frozen=True)
class Shopper:
    shop_domain: str
    # Shopify's customer id from the verified ``sub``; None for a guest.
    customer_id: int | None

    @property
    def customer_gid(self) -> str | None:
        return None if self.customer_id is None else f"gid://shopify/Customer/{self.customer_id}"


def unauthorized(message: str = "invalid or expired session token") -> Response:
    response: Response = make_response({"error": message}, 401)
    return response


def verified_tokens() -> UntilLRU[Shopper]:
    k = kanta()
    found = k.extras.get("checkout_verified_tokens")
    if found is None:
        found = k.extras["checkout_verified_tokens"] = UntilLRU(VERIFIED_TOKENS)
    assert isinstance(found, UntilLRU)
    return found


def shopper() -> Shopper:
    """The verified caller, or abort with 401."""
    authorization = request.headers.get("Authorization")
    cache = verified_tokens()
    if authorization is not None:
        known = cache.get(authorization)
        if known is not None:
            return known
    caller, expires = _verify()
    if authorization is not None:
        cache.put(authorization, caller, expires)
    return caller


def _verify() -> tuple[Shopper, float]:
    """Every check, in full: the caller and the token's ``exp``, or abort with 401."""
    k = kanta()
    result = k.shopify.app.verify_checkout_ui_ext_req(
        {
            "method": request.method,
            "headers": dict(request.headers),
            "url": request.url,
            "body": "",
        }
    )
    if not result.ok or result.id_token is None:
        abort(unauthorized())
    claims = result.id_token.claims
    # shopifyapp checks exp/nbf only when present: a token without them would never expire.
    if "exp" not in claims or "nbf" not in claims or is_admin_session(claims):
        abort(unauthorized())
    try:
        domain = shop_domain_from_dest(str(claims.get("dest", ""))).lower()
    except ShopifyError:
        abort(unauthorized())
    expires = float(claims["exp"])  # PyJWT has checked that it is a number
    sub = claims.get("sub")
    if sub is None:
        return Shopper(domain, None), expires
    match = CUSTOMER_GID.fullmatch(str(sub))
    if match is None or int(match.group(1)) > MAX_ID:
        abort(unauthorized("the session token's subject is not a customer"))
    return Shopper(domain, int(match.group(1))), expires

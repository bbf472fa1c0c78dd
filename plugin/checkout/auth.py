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

A token seen for the first time is first offered to ``strict_token`` (a fast check that can
only accept, and only tokens ``shopifyapp`` accepts); whatever it does not accept goes through
``shopifyapp`` as before, so every rejection is ``shopifyapp``'s or one of the checks here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, make_response, request
from shopify_app import ShopifyApp
from shopify_app.types import RequestInput

from ..auth import is_admin_session
from ..runtime import kanta
from ..shopify.gateway import ShopifyError, shop_domain_from_dest
from .cache import UntilLRU
from .strict_token import StrictTokenCheck

CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([1-9][0-9]{0,18})")
MAX_ID = 2**63 - 1
VERIFIED_TOKENS = 50_000  # entries; a few MB at most
INVALID = "invalid or expired session token"
NOT_A_CUSTOMER = "the session token's subject is not a customer"


@dataclass(frozen=True)
class Shopper:
    shop_domain: str
    # Shopify's customer id from the verified ``sub``; None for a guest.
    customer_id: int | None

    @property
    def customer_gid(self) -> str | None:
        return None if self.customer_id is None else f"gid://shopify/Customer/{self.customer_id}"


class TokenRejected(Exception):
    """The session token is refused: 401 with this message."""


def unauthorized(message: str = INVALID) -> Response:
    response: Response = make_response({"error": message}, 401)
    return response


def verified_tokens() -> UntilLRU[tuple[str, int | None]]:
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
            return Shopper(*known)
    caller, expires = _verify()
    if authorization is not None:
        # An exact tuple of atoms, which the garbage collector stops tracking (checkout/loyalty).
        cache.put(authorization, (caller.shop_domain, caller.customer_id), expires)
    return caller


def strict_check() -> StrictTokenCheck:
    k = kanta()
    found = k.extras.get("checkout_strict_token")
    if found is None:
        settings = k.settings
        found = k.extras["checkout_strict_token"] = StrictTokenCheck(
            settings.api_key, settings.api_secret, settings.old_api_secret
        )
    assert isinstance(found, StrictTokenCheck)
    return found


def _verify() -> tuple[Shopper, float]:
    """Every check, in full: the caller and the token's ``exp``, or abort with 401."""
    try:
        return verify_session_token(
            kanta().shopify.app,
            strict_check(),
            request.method,
            request.headers.get("Authorization"),
            lambda: {
                "method": request.method,
                "headers": dict(request.headers),
                "url": request.url,
                "body": "",
            },
        )
    except TokenRejected as rejected:
        abort(unauthorized(str(rejected)))


def verify_session_token(
    app: ShopifyApp,
    strict: StrictTokenCheck | None,
    method: str,
    authorization: str | None,
    request_input: Callable[[], RequestInput],
) -> tuple[Shopper, float]:
    """The caller a checkout or customer-account session token names, and its ``exp``; or
    ``TokenRejected``. ``strict`` (None: ``shopifyapp`` only) may accept an ordinary token
    first; every other token is ``shopifyapp``'s to judge."""
    claims = None if strict is None or method == "OPTIONS" else strict.claims(authorization)
    if claims is None:
        result = app.verify_checkout_ui_ext_req(request_input())
        if not result.ok or result.id_token is None:
            raise TokenRejected(INVALID)
        claims = result.id_token.claims
    return caller_from_claims(claims)


def caller_from_claims(claims: dict[str, Any]) -> tuple[Shopper, float]:
    """Kanta's checks on a verified token's claims."""
    # shopifyapp checks exp/nbf only when present: a token without them would never expire.
    if "exp" not in claims or "nbf" not in claims or is_admin_session(claims):
        raise TokenRejected(INVALID)
    try:
        domain = shop_domain_from_dest(str(claims.get("dest", ""))).lower()
    except ShopifyError:
        raise TokenRejected(INVALID) from None
    expires = float(claims["exp"])  # PyJWT has checked that it is a number
    sub = claims.get("sub")
    if sub is None:
        return Shopper(domain, None), expires
    match = CUSTOMER_GID.fullmatch(str(sub))
    if match is None or int(match.group(1)) > MAX_ID:
        raise TokenRejected(NOT_A_CUSTOMER)
    return Shopper(domain, int(match.group(1))), expires

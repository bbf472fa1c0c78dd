"""The strict session-token check accepts only what ``shopifyapp`` accepts, and the widget's
verdict on any token is the same with it as without it (plugin/checkout/strict_token.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from shopify_app import ShopifyApp

from devstore.signing import mint_admin_session_token, mint_checkout_session_token
from plugin.checkout.auth import Shopper, TokenRejected, verify_session_token
from plugin.checkout.strict_token import StrictTokenCheck
from tests.conftest import API_KEY, API_SECRET, SHOP

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

OLD_SECRET = "the-previous-secret-during-a-rotation-0123"
WRONG_SECRET = "a-secret-that-is-not-this-apps-at-all-9876"
APP = ShopifyApp(client_id=API_KEY, client_secret=API_SECRET, old_client_secret=OLD_SECRET)
STRICT = StrictTokenCheck(API_KEY, API_SECRET, OLD_SECRET)
CANONICAL_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign(header: Any, claims: Any, secret: str) -> str:
    """A JWT built by hand, so that the header and the claims can be anything at all."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def shopifyapp_claims(authorization: str) -> dict[str, Any] | None:
    result = APP.verify_checkout_ui_ext_req(
        {"method": "GET", "headers": {"Authorization": authorization}, "url": "", "body": ""}
    )
    return result.id_token.claims if result.ok and result.id_token else None


def widget_verdict(
    authorization: str, strict: StrictTokenCheck | None
) -> tuple[Shopper, float] | str:
    request = {"method": "GET", "headers": {"Authorization": authorization}, "url": "", "body": ""}
    try:
        return verify_session_token(APP, strict, "GET", authorization, lambda: request)
    except TokenRejected as rejected:
        return f"401 {rejected}"
    except Exception as error:  # shopifyapp's own failures (a signed non-string dest) count too
        return f"raises {type(error).__name__}"


# Offsets from now in seconds, none within a second of PyJWT's 10 s leeway or of 0, so that
# the two checks (a few microseconds apart) see the same side of every limit.
EXP = st.sampled_from([-3600, -60, -5, 5, 3600])
NBF = st.sampled_from([-5, 5, 60, 3600])
ANYTHING = st.one_of(st.text(max_size=12), st.integers(), st.none(), st.booleans(), st.floats())
HEADERS = st.sampled_from(
    [
        {"typ": "JWT", "alg": "HS256"},
        {"alg": "HS256"},
        {"alg": "HS512", "typ": "JWT"},
        {"alg": "none", "typ": "JWT"},
        {"alg": "HS256", "typ": "JWT", "kid": 1},
        {"alg": "HS256", "typ": "JWT", "crit": ["exp"]},
        {"alg": "HS256", "typ": "JWT", "b64": False, "crit": ["b64"]},
        ["alg", "HS256"],
    ]
)
# What a token can get wrong; each example is an ordinary token with none, one or a few.
DEFECTS = [
    "header", "secret", "dest", "aud", "exp", "nbf", "iat", "jti", "sub", "drop", "retype",
    "extra", "flip", "pad", "cut", "dots", "swap", "junk", "prefix",
]  # fmt: skip


@st.composite
def authorizations(draw: st.DrawFn) -> str:
    defects = set(draw(st.lists(st.sampled_from(DEFECTS), max_size=3)))
    now = int(time.time())
    header: Any = CANONICAL_HEADER
    secret = draw(st.sampled_from([API_SECRET, OLD_SECRET]))
    claims: dict[str, Any] = {
        "dest": SHOP,
        "aud": API_KEY,
        "exp": now + 300,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": "0c1e2a",
        "sub": "gid://shopify/Customer/42",
    }
    if draw(st.booleans()):
        del claims["sub"]  # a guest
    if "header" in defects:
        header = draw(HEADERS)
    if "secret" in defects:
        secret = WRONG_SECRET
    if "dest" in defects:
        claims["dest"] = draw(
            st.sampled_from([f"https://{SHOP}", "evil.example.com", "", "x.myshopify.com", 3])
        )
    if "aud" in defects:
        claims["aud"] = draw(st.sampled_from(["another-app", [API_KEY], "", None]))
    for name, offsets in (("exp", EXP), ("nbf", NBF), ("iat", NBF)):
        if name in defects:
            claims[name] = now + draw(offsets)
    if "jti" in defects:
        claims["jti"] = draw(st.sampled_from(["", 7, None]))
    if "sub" in defects:
        claims["sub"] = draw(
            st.sampled_from(["gid://shopify/Customer/0", "gid://shopify/Staff/1", 42, "", None])
        )
    if "drop" in defects:
        for name in draw(st.lists(st.sampled_from(sorted(claims)), min_size=1, unique=True)):
            del claims[name]
    if "retype" in defects:
        for name in draw(st.lists(st.sampled_from(["exp", "nbf", "iat"]), min_size=1, unique=True)):
            if isinstance(claims.get(name), int):
                value = claims[name]
                claims[name] = draw(st.sampled_from([float(value), str(value), True, value + 0.5]))
    if "extra" in defects:
        claims.update(
            draw(st.dictionaries(st.sampled_from(["iss", "sid", "foo"]), ANYTHING, min_size=1))
        )
    token = sign(header, claims, secret)
    if "flip" in defects:
        at = draw(st.integers(0, len(token) - 1))
        token = token[:at] + draw(st.sampled_from("AQgw_-=!. +/")) + token[at + 1 :]
    if "pad" in defects:
        parts = token.split(".")
        parts[draw(st.integers(0, len(parts) - 1))] += draw(st.sampled_from(["=", "==", "==="]))
        token = ".".join(parts)
    if "cut" in defects:
        token = token[: draw(st.integers(0, len(token) - 1))]
    if "dots" in defects:
        token = token.replace(".", "..", 1) if draw(st.booleans()) else token + ".x"
    if "swap" in defects and token.count(".") == 2:
        head, payload, mac = token.split(".")
        token = f"{payload}.{head}.{mac}"
    if "junk" in defects:
        token += draw(st.text(min_size=1, max_size=3))
    prefix = (
        draw(st.sampled_from(["bearer ", "Bearer  ", "", "Basic "]))
        if "prefix" in defects
        else "Bearer "
    )
    return prefix + token


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(authorizations())
def test_the_strict_check_accepts_only_what_shopifyapp_accepts(authorization: str) -> None:
    accepted = STRICT.claims(authorization)
    event("strict path" if accepted is not None else "left to shopifyapp")
    if accepted is not None:
        assert shopifyapp_claims(authorization) == accepted


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(authorizations())
def test_the_widget_verdict_is_the_same_with_and_without_the_strict_check(
    authorization: str,
) -> None:
    assert widget_verdict(authorization, STRICT) == widget_verdict(authorization, None)


@st.composite
def ordinary_tokens(draw: st.DrawFn) -> tuple[str, int | None]:
    """Tokens as Shopify signs them, varied only where an ordinary token varies."""
    now = int(time.time())
    customer_id = draw(st.none() | st.integers(1, 2**63 - 1))
    token = mint_checkout_session_token(
        draw(st.sampled_from([SHOP, "a-b-c.myshopify.com", "Shop-Two.myshopify.com"])),
        API_KEY,
        draw(st.sampled_from([API_SECRET, OLD_SECRET])),
        customer_id=customer_id,
        # At least 30 s: a token 2 s from expiry could expire while a busy machine checks it.
        lifetime=draw(st.integers(30, 7200)),
        now=datetime.fromtimestamp(now - draw(st.integers(0, 1)), UTC),  # just minted
    )
    return f"Bearer {token}", customer_id


@settings(max_examples=200, deadline=None)
@given(ordinary_tokens())
def test_ordinary_tokens_take_the_strict_path_with_shopifyapps_verdict(
    ordinary: tuple[str, int | None],
) -> None:
    authorization, customer_id = ordinary
    accepted = STRICT.claims(authorization)
    assert accepted is not None
    assert accepted == shopifyapp_claims(authorization)
    caller, expires = widget_verdict(authorization, STRICT)
    assert caller.customer_id == customer_id
    assert (caller, expires) == widget_verdict(authorization, None)


@pytest.mark.parametrize("secret", [API_SECRET, OLD_SECRET])
@pytest.mark.parametrize("customer_id", [42, None])
def test_the_tokens_shopify_mints_take_the_strict_path(
    secret: str, customer_id: int | None
) -> None:
    token = mint_checkout_session_token(SHOP, API_KEY, secret, customer_id=customer_id)
    accepted = STRICT.claims(f"Bearer {token}")
    assert accepted is not None
    assert accepted == shopifyapp_claims(f"Bearer {token}")
    caller, expires = widget_verdict(f"Bearer {token}", STRICT)
    assert caller == Shopper(SHOP, customer_id)
    assert expires == accepted["exp"]


def test_what_the_strict_check_leaves_to_shopifyapp() -> None:
    now = int(time.time())
    ordinary = {"dest": SHOP, "aud": API_KEY, "exp": now + 60, "nbf": now, "iat": now}
    in_leeway = {**ordinary, "exp": now - 5}  # expired, but within PyJWT's 10 s leeway
    cases = {
        "wrong secret": sign(CANONICAL_HEADER, ordinary, WRONG_SECRET),
        "within the leeway": sign(CANONICAL_HEADER, in_leeway, API_SECRET),
        "another header": sign({"alg": "HS256"}, ordinary, API_SECRET),
        "an admin token": mint_admin_session_token(SHOP, API_KEY, API_SECRET),
        "a float exp": sign(CANONICAL_HEADER, {**ordinary, "exp": now + 60.0}, API_SECRET),
        "another audience": sign(CANONICAL_HEADER, {**ordinary, "aud": "other"}, API_SECRET),
    }
    for name, token in cases.items():
        assert STRICT.claims(f"Bearer {token}") is None, name
    # The full check still accepts what it accepted before: the leeway, another header.
    assert widget_verdict(f"Bearer {cases['within the leeway']}", STRICT) == (
        Shopper(SHOP, None),
        float(now - 5),
    )
    assert widget_verdict(f"Bearer {cases['another header']}", STRICT) == (
        Shopper(SHOP, None),
        float(now + 60),
    )
    assert widget_verdict(f"Bearer {cases['wrong secret']}", STRICT) == (
        "401 invalid or expired session token"
    )


def test_a_secret_pyjwt_refuses_is_never_used_by_the_strict_check() -> None:
    pem = (
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"
    )
    strict = StrictTokenCheck(API_KEY, pem)
    now = int(time.time())
    token = sign(CANONICAL_HEADER, {"dest": SHOP, "aud": API_KEY, "exp": now + 60, "nbf": now}, pem)
    assert strict.claims(f"Bearer {token}") is None

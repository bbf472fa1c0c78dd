"""A strict, fast acceptance check for the ordinary checkout session token, in front of
``shopifyapp``.

Every token a checkout sends for the first time went through
``shopifyapp.verify_checkout_ui_ext_req`` (PyJWT underneath): about 0.2 ms, a quarter of an
uncached widget answer's CPU (bench/README.md). Yet the tokens Shopify signs all have one
shape: the header ``{"alg": "HS256", "typ": "JWT"}``, canonical base64url segments, and only the
claims a checkout or customer-account token carries (``dest``, ``aud``, ``exp``, ``nbf``,
``iat``, ``jti``, ``sub``), each of its JSON type. For a token of exactly that shape this module
checks what PyJWT and ``shopifyapp`` check — the HMAC-SHA256 signature with the app's secret (or
the previous one, during a rotation), ``aud`` = the API key, ``nbf``/``iat`` not in the future,
``exp`` not past — and answers its claims.

It only ever *accepts*. Anything else — another header, an unknown or mistyped claim, a time
inside the verifier's 10 s leeway, a signature that does not match — answers None, and the
caller runs the full ``shopifyapp`` check, which accepts or rejects it as before. So every
rejection is still ``shopifyapp``'s, and what this accepts is a subset of what it accepts
(``tests/test_checkout_strict_token.py`` compares the verdicts over mutated tokens). The checks
Kanta adds on top (``dest`` a shop, ``sub`` a customer, not an admin token) run on either
path's claims.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import Any

from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidKeyError

BEARER = "Bearer "
HEADER = {"alg": "HS256", "typ": "JWT"}
# Three base64url segments without padding; an HS256 signature is 32 bytes, 43 characters.
TOKEN_SHAPE = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})")
TEXT_CLAIMS = frozenset({"dest", "aud", "jti", "sub"})
TIME_CLAIMS = frozenset({"exp", "nbf", "iat"})
REQUIRED_CLAIMS = frozenset({"dest", "aud", "exp", "nbf"})


def _segment(text: str) -> bytes | None:
    """A base64url segment's bytes, only if it is the canonical encoding of them (PyJWT
    refuses the others)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text:
        return None
    return raw


def _object(raw: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(raw)  # as PyJWT parses them
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


class StrictTokenCheck:
    """One per app: the secrets as PyJWT would use them, and the API key."""

    def __init__(
        self,
        api_key: str,
        secret: str,
        old_secret: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_key, self._clock = api_key, clock
        # The current secret first (shopifyapp tries the previous one first: for a signature
        # that matches, the order changes nothing but the time).
        self._keys: list[bytes] = []
        for candidate in (secret, old_secret) if old_secret else (secret,):
            try:
                self._keys.append(HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(candidate))
            except InvalidKeyError:
                continue  # PyJWT refuses this secret: leave its tokens to shopifyapp

    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        """The verified claims of an ordinary session token, or None: not decided here."""
        if authorization is None or not authorization.startswith(BEARER):
            return None
        shape = TOKEN_SHAPE.fullmatch(authorization, len(BEARER))
        if shape is None:
            return None
        header_raw = _segment(shape.group(1))
        if header_raw is None or _object(header_raw) != HEADER:
            return None
        signature = _segment(shape.group(3))
        signing_input = authorization[len(BEARER) : shape.end(2)].encode("ascii")
        if signature is None or not any(
            hmac.compare_digest(signature, hmac.digest(key, signing_input, hashlib.sha256))
            for key in self._keys
        ):
            return None
        payload_raw = _segment(shape.group(2))
        claims = None if payload_raw is None else _object(payload_raw)
        if claims is None or not self._ordinary(claims):
            return None
        return claims

    def _ordinary(self, claims: dict[str, Any]) -> bool:
        if not REQUIRED_CLAIMS <= claims.keys() <= TEXT_CLAIMS | TIME_CLAIMS:
            return False
        for name, value in claims.items():
            expected = str if name in TEXT_CLAIMS else int
            if type(value) is not expected:  # not a subclass: bool is an int
                return False
        now = self._clock()
        exp, nbf, iat = claims["exp"], claims["nbf"], claims.get("iat", claims["nbf"])
        # No leeway here: a token within PyJWT's 10 s of a limit goes the full way.
        return bool(claims["aud"] == self.api_key and nbf <= now and iat <= now < exp)

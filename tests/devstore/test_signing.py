"""Signatures the devstore produces are the ones Shopify produces, and Shopify's own
Python package (`shopifyapp`) accepts them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jwt
import shopify_app

from devstore.signing import (
    mint_admin_session_token,
    mint_checkout_session_token,
    sign_webhook,
    webhook_headers,
)

API_KEY = "kanta-client-id"
SECRET = "shpss_kanta_client_secret_0123456789abcdef"
SHOP = "kanta-demo.myshopify.com"
CONFIG: shopify_app.AppConfig = {"client_id": API_KEY, "client_secret": SECRET}


def test_hmac_matches_published_vector() -> None:
    assert sign_webhook(b'{"foo": "bar"}', "test_secret_key") == (
        "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="
    )


def test_admin_token_claims() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    token = mint_admin_session_token(SHOP, API_KEY, SECRET, user_id="42", now=now)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience=API_KEY,
        options={"verify_exp": False},
    )
    assert claims["iss"] == f"https://{SHOP}/admin"
    assert claims["dest"] == f"https://{SHOP}"
    assert claims["sub"] == "42"
    assert claims["exp"] - claims["nbf"] == 60
    assert claims["iat"] == int(now.timestamp())
    assert len(claims["sid"]) == 64
    int(claims["sid"], 16)
    assert len(claims["jti"]) == 36


def test_checkout_token_claims_for_customer_and_guest() -> None:
    token = mint_checkout_session_token(
        SHOP, API_KEY, SECRET, customer_id=7_000_000_000_000_000_123
    )
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=API_KEY)
    assert claims["dest"] == SHOP
    assert claims["sub"] == "gid://shopify/Customer/7000000000000000123"
    assert claims["exp"] - claims["nbf"] == 300
    assert "iss" not in claims
    assert "sid" not in claims
    guest = jwt.decode(
        mint_checkout_session_token(SHOP, API_KEY, SECRET),
        SECRET,
        algorithms=["HS256"],
        audience=API_KEY,
    )
    assert "sub" not in guest


def test_webhook_headers_are_complete_and_accepted_by_shopifyapp() -> None:
    body = json.dumps({"id": 7_000_000_000_000_000_001}).encode()
    headers = webhook_headers(
        topic="orders/paid",
        shop_domain=SHOP,
        body=body,
        secret=SECRET,
        api_version="2026-04",
    )
    assert set(headers) == {
        "Content-Type",
        "X-Shopify-Topic",
        "X-Shopify-Hmac-Sha256",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "X-Shopify-Webhook-Id",
        "X-Shopify-Event-Id",
        "X-Shopify-Triggered-At",
    }
    assert datetime.fromisoformat(headers["X-Shopify-Triggered-At"]).tzinfo is not None
    result = shopify_app.verify_webhook_req(
        {
            "method": "POST",
            "headers": headers,
            "url": "https://kanta.test/webhooks",
            "body": body.decode(),
        },
        CONFIG,
    )
    assert result.ok, result.log
    assert result.shop == "kanta-demo"


def test_tampered_webhook_is_rejected_by_shopifyapp() -> None:
    body = b'{"id": 1}'
    headers = webhook_headers(
        topic="orders/paid",
        shop_domain=SHOP,
        body=body,
        secret=SECRET,
        api_version="2026-04",
    )
    result = shopify_app.verify_webhook_req(
        {
            "method": "POST",
            "headers": headers,
            "url": "https://kanta.test/webhooks",
            "body": '{"id": 2}',
        },
        CONFIG,
    )
    assert not result.ok
    assert result.response.status == 401


def test_checkout_token_is_accepted_by_shopifyapp() -> None:
    token = mint_checkout_session_token(
        SHOP, API_KEY, SECRET, customer_id=7_000_000_000_000_000_123
    )
    result = shopify_app.verify_checkout_ui_ext_req(
        {
            "method": "POST",
            "headers": {
                "Authorization": f"Bearer {token}",
                "Origin": "https://extensions.shopifycdn.com",
            },
            "url": "https://kanta.test/api/checkout/balance",
            "body": "",
        },
        CONFIG,
    )
    assert result.ok, result.log
    assert result.shop == "kanta-demo"


def test_admin_token_is_accepted_by_shopifyapp_app_home() -> None:
    token = mint_admin_session_token(SHOP, API_KEY, SECRET)
    result = shopify_app.verify_app_home_req(
        {
            "method": "GET",
            "headers": {"Authorization": f"Bearer {token}"},
            "url": "https://kanta.test/api/summary",
            "body": "",
        },
        CONFIG,
        "/auth/patch-id-token",
    )
    assert result.ok, result.log
    assert result.id_token is not None
    assert result.id_token.exchangeable

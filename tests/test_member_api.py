"""The whole path over HTTP: signed webhooks in, the admin's member read API out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from flask import Flask
from flask.testing import FlaskClient

from devstore.signing import mint_admin_session_token
from tests.conftest import API_KEY, API_SECRET, OTHER_SHOP, SHOP, install_shop
from tests.story import Shopper, line


def bearer(shop: str = SHOP, **kwargs: object) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {mint_admin_session_token(shop, API_KEY, API_SECRET, **kwargs)}"
    }  # type: ignore[arg-type]


def test_a_members_points_tier_and_ledger_over_http(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    ada = Shopper(app, client)
    order = ada.order(line("Coat", "480.00"), line("Hat", "40.00"))
    ada.pays(order)
    ada.refunds(order, (1, 1))

    response = client.get(f"/api/admin/members/{ada.customer_id}", headers=bearer())
    assert response.status_code == 200
    body = response.get_json()
    assert body["customer_id"] == str(ada.customer_id)  # 64-bit id as a string
    assert body["points"] == 480
    assert body["pending_points"] == 0
    assert body["tier"] == {"key": "bronze", "name": "Bronze", "multiplier": "1"}
    assert body["next_tier"] == {"name": "Silver", "threshold": 500, "points_needed": 20}
    assert [(e["kind"], e["points"]) for e in body["entries"]] == [
        ("refund_reversal", -40),
        ("order_award", 520),
    ]
    assert all(e["created_at"].endswith("+00:00") for e in body["entries"])
    assert body["entries"][1]["order_id"] == str(order["id"])


def test_unknown_member_is_404(client: FlaskClient, shop: int) -> None:
    assert client.get("/api/admin/members/123", headers=bearer()).status_code == 404
    assert client.get("/api/admin/members/not-a-number", headers=bearer()).status_code == 404


def test_bad_or_expired_tokens_are_401(client: FlaskClient, shop: int) -> None:
    past = datetime.now(UTC) - timedelta(minutes=5)
    wrong_secret = "a-wrong-secret-that-is-long-enough-0123456789"
    forged = jwt.encode({"dest": f"https://{SHOP}", "aud": API_KEY}, wrong_secret, "HS256")
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer {forged}"},
        bearer(now=past),
        {"Authorization": f"Bearer {mint_admin_session_token(SHOP, 'other-app', API_SECRET)}"},
    ):
        response = client.get("/api/admin/members/123", headers=headers)
        assert response.status_code == 401
        assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_a_token_of_one_shop_never_reads_another_shops_members(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    install_shop(app, OTHER_SHOP)
    ada = Shopper(app, client)
    ada.pays(ada.order(line("Lamp", "10.00")))
    mine = client.get(f"/api/admin/members/{ada.customer_id}", headers=bearer(SHOP))
    theirs = client.get(f"/api/admin/members/{ada.customer_id}", headers=bearer(OTHER_SHOP))
    assert mine.status_code == 200
    assert theirs.status_code == 404


def test_an_uninstalled_shop_reads_nothing(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/admin/members/1", headers=bearer("never.myshopify.com"))
    assert response.status_code == 403


def test_the_merchant_adjusts_points_with_a_reason_once_per_idempotency_key(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    ada = Shopper(app, client)
    ada.pays(ada.order(line("Lamp", "10.00")))
    url = f"/api/admin/members/{ada.customer_id}/adjustments"
    headers = {**bearer(user_id="42"), "Idempotency-Key": "form-7"}
    for _ in range(2):  # a double-clicked submit
        response = client.post(
            url, json={"points": 25, "reason": "Sorry for the delay"}, headers=headers
        )
        assert response.status_code == 201
    assert response.get_json()["points"] == 35
    assert response.get_json()["entry"]["actor"] == "staff:42"
    assert ada.ledger()[-1] == ("adjustment", 25, 0)
    assert len(ada.entries()) == 2


def test_an_invalid_adjustment_is_refused_field_by_field_and_changes_nothing(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    ada = Shopper(app, client)
    ada.pays(ada.order(line("Lamp", "10.00")))
    url = f"/api/admin/members/{ada.customer_id}/adjustments"
    bad = client.post(url, json={"points": 0, "reason": " "}, headers=bearer())
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"points", "reason"}
    assert (
        client.post(url, json={"points": 1.5, "reason": "x"}, headers=bearer()).status_code == 422
    )
    assert client.post(url, data="nope", headers=bearer()).status_code == 400
    assert (
        client.post(
            "/api/admin/members/999/adjustments",
            json={"points": 5, "reason": "x"},
            headers=bearer(),
        ).status_code
        == 404
    )
    assert client.post(url, json={"points": 5, "reason": "x"}).status_code == 401
    assert ada.points == 10
    assert len(ada.entries()) == 1


def test_another_shops_token_cannot_adjust_this_shops_member(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    install_shop(app, OTHER_SHOP)
    ada = Shopper(app, client)
    ada.pays(ada.order(line("Lamp", "10.00")))
    response = client.post(
        f"/api/admin/members/{ada.customer_id}/adjustments",
        json={"points": 500, "reason": "free points"},
        headers=bearer(OTHER_SHOP),
    )
    assert response.status_code == 404
    assert ada.points == 10


def test_a_checkout_token_signed_with_the_same_secret_never_opens_the_admin(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    from devstore.signing import mint_checkout_session_token

    ada = Shopper(app, client)
    ada.pays(ada.order(line("Lamp", "10.00")))
    checkout = mint_checkout_session_token(SHOP, API_KEY, API_SECRET, customer_id=ada.customer_id)
    headers = {"Authorization": f"Bearer {checkout}"}
    assert client.get(f"/api/admin/members/{ada.customer_id}", headers=headers).status_code == 401
    adjust = client.post(
        f"/api/admin/members/{ada.customer_id}/adjustments",
        json={"points": 100_000, "reason": "free"},
        headers=headers,
    )
    assert adjust.status_code == 401
    assert client.get("/api/admin/data-requests", headers=headers).status_code == 401
    # ... nor the app home document.
    assert client.get(f"/?embedded=1&shop={SHOP}&id_token={checkout}").status_code == 401
    assert ada.points == 10


def test_an_admin_token_whose_issuer_is_another_shop_is_refused(
    client: FlaskClient, shop: int
) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": "https://evil-shop.myshopify.com/admin",
        "dest": f"https://{SHOP}",
        "aud": API_KEY,
        "sub": "1",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
        "jti": "x",
        "sid": "s" * 64,
    }
    token = jwt.encode(claims, API_SECRET, "HS256")
    response = client.get("/api/admin/data-requests", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_an_idempotency_key_reused_for_another_adjustment_is_refused(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    ada = Shopper(app, client, customer_id=73_000_000_000_000_001)
    bea = Shopper(app, client, customer_id=73_000_000_000_000_002, email="bea@example.com")
    for shopper in (ada, bea):
        shopper.pays(shopper.order(line("Lamp", "10.00")))
    headers = {**bearer(), "Idempotency-Key": "same"}
    first = client.post(
        f"/api/admin/members/{ada.customer_id}/adjustments",
        json={"points": 5, "reason": "x"},
        headers=headers,
    )
    assert first.status_code == 201
    for customer, points in ((bea.customer_id, 5), (ada.customer_id, 50)):
        reused = client.post(
            f"/api/admin/members/{customer}/adjustments",
            json={"points": points, "reason": "x"},
            headers=headers,
        )
        assert reused.status_code == 422
    assert (ada.points, bea.points) == (15, 10)

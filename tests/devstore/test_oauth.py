"""Token exchange and refresh, driven by Shopify's own Python package against the devstore."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import jwt
import pytest
import shopify_app
from devstore_testkit import API_KEY, API_SECRET, SHOP, Clock

from devstore import DevStore, mint_admin_session_token, mint_checkout_session_token

CONFIG: shopify_app.AppConfig = {"client_id": API_KEY, "client_secret": API_SECRET}
ENDPOINT = f"https://{SHOP}/admin/oauth/access_token"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def _id_token(store: DevStore, shop: str = SHOP, secret: str = API_SECRET) -> dict[str, Any]:
    token = mint_admin_session_token(shop, API_KEY, secret, now=store.now())
    claims = jwt.decode(token, options={"verify_signature": False})
    return {"exchangeable": True, "token": token, "claims": claims}


def _exchange(client: httpx.Client, **fields: Any) -> httpx.Response:
    body = {
        "client_id": API_KEY,
        "client_secret": API_SECRET,
        "grant_type": EXCHANGE,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
    }
    body.update(fields)
    return client.post(ENDPOINT, json=body)


def test_exchange_refresh_and_reuse_through_shopifyapp(
    store: DevStore, shopify_http: httpx.Client
) -> None:
    result = shopify_app.token_exchange(
        "offline", CONFIG, id_token=_id_token(store), expiring=True, http_client=shopify_http
    )
    assert result.ok, result.log
    first = result.access_token
    assert first is not None
    assert first.token.startswith("shpat_")
    assert first.refresh_token is not None
    assert first.refresh_token.startswith("shprt_")
    assert first.scope == store.scopes()
    assert store.token_is_live(SHOP, first.token)

    # shopifyapp only refreshes tokens close to expiry; say this one is.
    stale = {
        "shop": "kanta-demo",
        "refresh_token": first.refresh_token,
        "expires": "2000-01-01T00:00:00Z",
        "refresh_token_expires": "",
        "access_mode": "offline",
    }
    refreshed = shopify_app.refresh_access_token(stale, CONFIG, http_client=shopify_http)
    assert refreshed.ok, refreshed.log
    assert refreshed.access_token is not None
    assert refreshed.access_token.refresh_token not in {None, first.refresh_token}
    assert store.refresh_count(SHOP) == 1
    # The previous access token stays valid until its own expiry.
    assert store.token_is_live(SHOP, first.token)

    again = shopify_app.refresh_access_token(stale, CONFIG, http_client=shopify_http)
    assert not again.ok
    raw = shopify_http.post(
        ENDPOINT,
        json={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": first.refresh_token,
        },
    )
    assert raw.status_code == 400
    assert raw.json()["error"] == "invalid_grant"
    assert store.refresh_count(SHOP) == 1


def test_non_expiring_exchange_returns_only_token_and_scope(
    store: DevStore, shopify_http: httpx.Client
) -> None:
    response = _exchange(shopify_http, subject_token=_id_token(store)["token"], expiring=0)
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "scope"}


def test_form_encoded_exchange_with_expiring_flag(
    store: DevStore, shopify_http: httpx.Client
) -> None:
    response = shopify_http.post(
        ENDPOINT,
        data={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": EXCHANGE,
            "subject_token": _id_token(store)["token"],
            "expiring": "1",
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 7_776_000


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (
            lambda s: _id_token(s, secret="not-the-app-secret-but-long-enough-000")["token"],
            "invalid",
        ),
        (lambda s: _id_token(s, shop="other-shop.myshopify.com")["token"], "different shop"),
        (lambda s: mint_checkout_session_token(SHOP, API_KEY, API_SECRET, now=s.now()), "iss"),
    ],
)
def test_bad_subject_tokens_are_rejected(
    store: DevStore, shopify_http: httpx.Client, make_token: Any, reason: str
) -> None:
    response = _exchange(shopify_http, subject_token=make_token(store), expiring=1)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_subject_token"
    assert reason in response.json()["error_description"]


def test_expired_subject_token_allows_ten_seconds_leeway(
    store: DevStore, shopify_http: httpx.Client, clock: Clock
) -> None:
    token = _id_token(store)["token"]
    clock.advance(60 + 9)
    assert _exchange(shopify_http, subject_token=token, expiring=1).status_code == 200
    clock.advance(2)
    response = _exchange(shopify_http, subject_token=token, expiring=1)
    assert response.json()["error"] == "invalid_subject_token"


def test_wrong_credentials_or_uninstalled_app_is_invalid_client(
    store: DevStore, shopify_http: httpx.Client
) -> None:
    token = _id_token(store)["token"]
    response = _exchange(shopify_http, subject_token=token, client_secret="wrong")
    assert response.json()["error"] == "invalid_client"
    store.uninstall_app(SHOP)
    assert _exchange(shopify_http, subject_token=token).json()["error"] == "invalid_client"
    store.install_app(SHOP)
    assert _exchange(shopify_http, subject_token=token).status_code == 200


def test_new_expiring_token_retires_older_refresh_tokens(store: DevStore) -> None:
    older = store.issue_access_token(SHOP, expiring=True)
    newer = store.issue_access_token(SHOP, expiring=True)
    assert store.refresh_access_token(SHOP, older["refresh_token"]) is None
    assert store.refresh_access_token(SHOP, newer["refresh_token"]) is not None


def test_access_token_expires_and_uninstall_revokes(store: DevStore, clock: Clock) -> None:
    token = store.issue_access_token(SHOP, expiring=True)["access_token"]
    forever = store.issue_access_token(SHOP, expiring=False)["access_token"]
    clock.advance(3601)
    assert not store.token_is_live(SHOP, token)
    assert store.token_is_live(SHOP, forever)
    store.uninstall_app(SHOP)
    assert not store.token_is_live(SHOP, forever)


def test_racing_refreshes_succeed_once(store: DevStore) -> None:
    refresh = store.issue_access_token(SHOP, expiring=True)["refresh_token"]
    results: list[object] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(store.refresh_access_token(SHOP, refresh))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r is not None for r in results) == 1
    assert store.refresh_count(SHOP) == 1


def test_offline_token_migration_revokes_the_old_token(
    store: DevStore, shopify_http: httpx.Client
) -> None:
    old = store.issue_access_token(SHOP, expiring=False)["access_token"]
    response = _exchange(
        shopify_http,
        subject_token=old,
        expiring=1,
        subject_token_type="urn:shopify:params:oauth:token-type:offline-access-token",
    )
    assert response.status_code == 200
    assert "refresh_token" in response.json()
    assert not store.token_is_live(SHOP, old)

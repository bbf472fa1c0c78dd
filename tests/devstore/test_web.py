"""The demo pages render and their forms drive the store."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import flask
import jwt
from devstore_testkit import API_KEY, API_SECRET, APP_URL, SHOP, FakeKanta

from devstore import DevStore, admin_host_param


def test_storefront_renders(devstore_app: flask.Flask) -> None:
    page = devstore_app.test_client().get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Demo store — a local Shopify simulator" in text
    assert "Cash on Delivery (COD)" in text
    assert "Free pickup in store" in text
    assert "Ada Lovelace" in text
    assert "https://" not in text.replace(APP_URL, "")  # no CDN, no external fonts


def test_checkout_form_places_order_and_delivers_webhooks(
    devstore_app: flask.Flask, store: DevStore, kanta: FakeKanta
) -> None:
    client = devstore_app.test_client()
    variant = store.products()[0]["variants"][0]["id"]
    response = client.post("/orders", data={
        "customer_id": str(store.customers()[0]["id"]), f"qty_{variant}": "2",
        "payment_method": "PayPal", "delivery_option": "Local delivery",
        "presentment_currency": "EUR"})  # fmt: skip
    assert response.status_code == 302
    order = store.orders()[0]["order"]
    assert order["presentment_currency"] == "EUR"
    assert [r.headers["X-Shopify-Topic"] for r in kanta.requests] == [
        "orders/create",
        "orders/paid",
    ]
    page = client.get("/").get_data(as_text=True)
    assert order["name"] in page
    assert "orders/paid" in page
    assert "Order #1001 placed" in page

    line = order["line_items"][0]
    client.post(f"/orders/{order['id']}/refund", data={f"refund_{line['id']}": "1",
                                                      "shipping": "0"})  # fmt: skip
    assert store.order(order["id"])["financial_status"] == "partially_refunded"
    client.post(f"/orders/{order['id']}/fulfil")
    client.post(f"/orders/{order['id']}/cancel")
    assert store.order(order["id"])["cancelled_at"] is not None


def test_bad_form_input_is_flashed_not_crashed(devstore_app: flask.Flask) -> None:
    client = devstore_app.test_client()
    response = client.post("/orders", data={"payment_method": "Credit card"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Could not place the order: the cart is empty" in response.get_data(as_text=True)


def test_admin_embeds_the_app_like_shopify(devstore_app: flask.Flask) -> None:
    page = devstore_app.test_client().get("/admin").get_data(as_text=True)
    assert "Shopify admin" in page
    src = page.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert src.startswith(f"{APP_URL}/?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(src).query).items()}
    assert query["embedded"] == "1"
    assert query["shop"] == SHOP
    assert query["locale"] == "en"
    assert base64.b64decode(query["host"] + "==") == b"admin.shopify.com/store/kanta-demo"
    assert query["host"] == admin_host_param(SHOP)
    claims = jwt.decode(query["id_token"], API_SECRET, algorithms=["HS256"], audience=API_KEY,
                        options={"verify_exp": False, "verify_nbf": False})  # fmt: skip
    assert claims["dest"] == f"https://{SHOP}"
    assert "hmac" in query


def test_id_token_endpoint(devstore_app: flask.Flask) -> None:
    body = devstore_app.test_client().get("/admin/id-token").get_json()
    claims = jwt.decode(body["token"], API_SECRET, algorithms=["HS256"], audience=API_KEY,
                        options={"verify_exp": False, "verify_nbf": False})  # fmt: skip
    assert claims["iss"] == f"https://{SHOP}/admin"


def test_uninstall_reinstall_and_compliance_buttons(
    devstore_app: flask.Flask, store: DevStore, kanta: FakeKanta
) -> None:
    client = devstore_app.test_client()
    client.post("/admin/uninstall")
    assert not store.is_installed()
    assert "Reinstall app" in client.get("/admin").get_data(as_text=True)
    client.post("/admin/install")
    assert store.is_installed()
    customer = store.customers()[0]["id"]
    client.post("/admin/compliance", data={"kind": "customers/redact", "customer_id": customer})
    client.post("/admin/compliance", data={"kind": "shop/redact"})
    topics = [r.headers["X-Shopify-Topic"] for r in kanta.requests]
    assert topics == ["app/uninstalled", "customers/redact", "shop/redact"]


def test_redeliver_button(devstore_app: flask.Flask, store: DevStore, kanta: FakeKanta) -> None:
    client = devstore_app.test_client()
    store.request_shop_redact()
    delivery_id = client.get("/devstore/state.json").get_json()["deliveries"][0]["id"]
    client.post(f"/deliveries/{delivery_id}/redeliver")
    ids = {r.headers["X-Shopify-Webhook-Id"] for r in kanta.requests}
    assert len(kanta.requests) == 2
    assert len(ids) == 1

"""Demo mode: no credentials, Kanta and the devstore in one process, installed the real way."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from plugin.models import Customer, Reward, Shop
from plugin.settings import DEMO_SHOP_DOMAIN

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

APP_URL = "http://127.0.0.1:5000"


@pytest.fixture
def demo_app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"KANTA_ENV": {}, "INSTANCE_PATH": str(tmp_path / "instance")})
    yield app
    k = app.extensions["kanta"]
    k.extras["webhook_sender"].stop()
    k.jobs.shutdown()
    k.db.dispose()


def install(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "install"])
    assert result.exit_code == 0, result.output
    return result.output


def test_boots_in_demo_mode_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    app = create_app({"KANTA_ENV": {}, "INSTANCE_PATH": str(tmp_path / "instance")})
    try:
        k = app.extensions["kanta"]
        assert k.settings.demo
        assert "DEMO" in caplog.text
        assert f"{APP_URL}/devstore/" in caplog.text
        # Generated development credentials stay in the instance folder; repr hides them.
        assert (tmp_path / "instance" / "demo-credentials.json").exists()
        assert k.settings.api_secret not in repr(k.settings)
        assert k.settings.token_encryption_key not in repr(k.settings)
    finally:
        app.extensions["kanta"].extras["webhook_sender"].stop()
        app.extensions["kanta"].db.dispose()


def test_devstore_is_mounted(demo_app: Flask) -> None:
    client = demo_app.test_client()

    assert client.get("/devstore/").status_code == 200
    assert client.get("/devstore/admin").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_demo_install_uses_token_exchange_and_is_idempotent(demo_app: Flask) -> None:
    k = demo_app.extensions["kanta"]

    output = install(demo_app)

    assert f"Open {APP_URL}/devstore/" in output
    store = k.extras["devstore"]
    with k.db.read() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == DEMO_SHOP_DOMAIN)).one()
        assert shop.is_installed
        assert shop.refresh_token_enc is not None  # an expiring token: came by token exchange
        token = k.cipher.decrypt(shop.access_token_enc or "")
        assert store.token_is_live(DEMO_SHOP_DOMAIN, token)
        assert shop.name == store.shop_resource(DEMO_SHOP_DOMAIN)["name"]

    install(demo_app)

    with k.db.read() as session:
        assert session.scalar(select(func.count(Shop.id))) == 1
        assert session.scalar(select(func.count(Reward.id))) == 2  # the two default rewards, once
        again = session.scalars(select(Shop)).one()
        assert k.cipher.decrypt(again.access_token_enc or "") == token


def test_app_home_in_the_demo_admin(demo_app: Flask) -> None:
    from devstore.web import app_load_url

    install(demo_app)
    store = demo_app.extensions["kanta"].extras["devstore"]
    url = app_load_url(store, app_url=APP_URL, shop_domain=DEMO_SHOP_DOMAIN)

    response = demo_app.test_client().get(url.removeprefix(APP_URL))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Demo mode" in page
    assert "running against the local demo store" in page
    assert "Place an order in the demo store" in page
    assert "cdn.shopify.com" not in page  # the demo runs offline
    assert "Link" not in response.headers
    assert response.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{DEMO_SHOP_DOMAIN} https://admin.shopify.com {APP_URL};"
    )


def test_demo_patch_page_asks_the_demo_admin_for_a_token(demo_app: Flask) -> None:
    response = demo_app.test_client().get(
        "/auth/patch-id-token", query_string={"shop": DEMO_SHOP_DOMAIN, "shopify-reload": "/?a=1"}
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "kanta-session.js" in page
    assert "app-bridge.js" not in page


def test_order_in_the_demo_store_reaches_kanta(demo_app: Flask) -> None:
    install(demo_app)
    k = demo_app.extensions["kanta"]
    store, sender = k.extras["devstore"], k.extras["webhook_sender"]
    customer = store.customers(DEMO_SHOP_DOMAIN)[0]
    variant = store.products(DEMO_SHOP_DOMAIN)[0]["variants"][0]

    store.place_order(
        customer_id=customer["id"],
        items=[(variant["id"], 2)],
        payment_method=store.payment_methods()[0].name,
        delivery_option=store.delivery_options()[0].title,
    )

    assert sender.wait_idle(10)
    deliveries = sender.deliveries()
    assert deliveries
    assert all(d.state == "delivered" for d in deliveries), [d.status_codes for d in deliveries]
    k.jobs.shutdown()  # let the in-process jobs finish
    with k.db.read() as session:
        assert session.scalar(
            select(func.count(Customer.id)).where(Customer.shopify_customer_id == customer["id"])
        )

"""Shared fixtures: the app on the database under test, a controllable clock, installed shops,
and a helper that posts signed webhooks exactly as Shopify does.

The suite runs once per database: ``KANTA_TEST_DATABASE=sqlite`` (default) or ``postgresql``
(the server at 127.0.0.1:5432, database ``test``; each run gets its own schema, dropped after).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command as alembic_command
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, text
from werkzeug.test import TestResponse

from app import create_app
from plugin.cli import alembic_config
from plugin.crypto import TokenCipher
from plugin.loyalty.program import ProgramSettings
from plugin.models import (
    Base,
    Shop,
)

API_KEY = "test-api-key"
API_SECRET = "test-api-secret-for-kanta-0123456789abcdef"
FERNET_KEY = Fernet.generate_key().decode()
SHOP = "shop-one.myshopify.com"
OTHER_SHOP = "shop-two.myshopify.com"
POSTGRES_URL = os.environ.get(
    "KANTA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def backend() -> str:
    return os.environ.get("KANTA_TEST_DATABASE", "sqlite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests run in the PostgreSQL pass of the suite (scripts/test), not twice;
    # browser tests drive the SQLite demo and run in the SQLite pass only.
    other_pass = "browser" if backend() == "postgresql" else "postgres_only"
    keep = [i for i in items if i.get_closest_marker(other_pass) is None]
    dropped = [i for i in items if i.get_closest_marker(other_pass) is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def migrate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        alembic_command.upgrade(config, "head")
    engine.dispose()


def postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema for this test session; dropped afterwards."""
    schema = f"kanta_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        migrate(postgres_schema_url(schema))
        yield schema
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url(postgres_schema: str) -> str:
    return postgres_schema_url(postgres_schema)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    if backend() == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    path = tmp_path_factory.mktemp("db") / "kanta-test.sqlite3"
    url = f"sqlite:///{path}"
    migrate(url)
    return url


def wipe(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    engine.dispose()


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


def test_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_APP_URL": "https://kanta.example",
        "TOKEN_ENCRYPTION_KEY": FERNET_KEY,
        "DATABASE_URL": database_url,
        "SHOPIFY_API_BASE_URL": "http://devstore.test",
        **extra,
    }


test_env.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def _no_shopify(request: httpx.Request) -> httpx.Response:
    # A refused connection (not a 5xx, which shopifyapp would retry after sleeping).
    raise httpx.ConnectError("no Shopify in this test (use ShopifyStack)", request=request)


@pytest.fixture
def make_app(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def build(**config: Any) -> Flask:
        env = config.pop("env", None) or test_env(database_url)
        # No test reaches a network: without the devstore, "Shopify" answers 503.
        config.setdefault("SHOPIFY_TRANSPORT", httpx.MockTransport(_no_shopify))
        app = create_app(
            {
                "TESTING": True,
                "KANTA_ENV": env,
                "CLOCK": clock,
                **config,
            }
        )
        apps.append(app)
        return app

    wipe(database_url)
    yield build
    for app in apps:
        app.extensions["kanta"].jobs.shutdown()
        app.extensions["kanta"].db.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def kanta(app: Flask) -> Any:
    return app.extensions["kanta"]


def install_shop(
    app: Flask,
    domain: str = SHOP,
    *,
    program: dict[str, Any] | None = None,
    currency: str = "USD",
    token: str = "shpat_test_token",
) -> int:
    """An installed shop row (as after an install), returning its id."""
    k = app.extensions["kanta"]
    with k.db.transaction() as session:
        shop = Shop(
            domain=domain,
            currency=currency,
            access_token_enc=TokenCipher(FERNET_KEY).encrypt(token),
            scopes="read_orders,read_customers,write_customers,write_discounts",
            installed_at=k.now(),
            program=ProgramSettings.from_dict(program or {}).to_dict(),
        )
        session.add(shop)
        session.flush()
        return shop.id


@pytest.fixture
def shop(app: Flask) -> int:
    return install_shop(app)


def post_webhook(
    client: FlaskClient,
    topic: str,
    payload: Any,
    *,
    shop: str = SHOP,
    webhook_id: str | None = None,
    secret: str = API_SECRET,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """POST a webhook signed the way Shopify signs it (all real headers)."""
    from devstore.signing import webhook_headers

    raw = body if body is not None else json.dumps(payload).encode()
    sent = webhook_headers(
        topic=topic,
        shop_domain=shop,
        body=raw,
        secret=secret,
        api_version="2026-04",
        webhook_id=webhook_id or str(uuid.uuid4()),
    )
    sent.update(headers or {})
    return client.post("/webhooks", data=raw, headers=sent)

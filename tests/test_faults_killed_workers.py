"""Workers killed mid-delivery: gunicorn with several sync workers on PostgreSQL takes a stream
of signed deliveries while workers are SIGKILLed at random (one may die before, during or after
its commit); the sender retries every delivery until it gets a 2xx, as Shopify does, with the
same webhook id. Every balance must then equal an independent count: nothing lost, nothing
paid twice.

Bounded (about 10 s, at most 25 kills). ``KANTA_FAULTS_HEAVY=1`` runs a longer stream with more
kills."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from flask import Flask
from sqlalchemy import func, select

from devstore.payloads import ID_BASE, LineSpec, build_customer, build_order
from plugin.models import Customer, LedgerEntry, WebhookReceipt
from tests import harness
from tests.conftest import install_shop, test_env
from tests.harness import signed

pytestmark = pytest.mark.postgres_only

HEAVY = os.environ.get("KANTA_FAULTS_HEAVY") == "1"
ORDERS = 1500 if HEAVY else 240
CUSTOMERS = 12
KILL_EVERY = (0.1, 0.4)  # seconds between kills, drawn at random
MAX_KILLS = 150 if HEAVY else 25
MAX_ATTEMPTS = 60


def test_workers_killed_at_random_lose_nothing_and_pay_nothing_twice(
    make_app: object, postgres_url: str
) -> None:
    app: Flask = make_app(env=test_env(postgres_url))  # type: ignore[operator]
    install_shop(app)
    rng = random.Random(13)
    customers = [
        build_customer(ID_BASE + 500 + i, email=f"k{i}@example.com", first_name="K", last_name="W")
        for i in range(CUSTOMERS)
    ]
    expected: Counter[int] = Counter()
    deliveries: list[tuple[bytes, dict[str, str]]] = []
    for n in range(ORDERS):
        customer = rng.choice(customers)
        order = build_order(
            order_id=ID_BASE + 6_000_000 + n,
            shop_domain="shop-one.myshopify.com",
            customer=customer,
            lines=[LineSpec(title="Mug", price=Decimal("10.00"))],
        )
        expected[customer["id"]] += 10  # independent of Kanta: 10.00 at 1 point per unit
        deliveries.append(signed("orders/paid", order, str(uuid.uuid4())))

    kills = 0
    attempts: Counter[str] = Counter()
    done = threading.Event()

    with harness.gunicorn(test_env(postgres_url), workers=3) as server:

        def killer() -> None:
            nonlocal kills
            while kills < MAX_KILLS and not done.wait(rng.uniform(*KILL_EVERY)):
                # Only workers that have booted (and so are busy: senders outnumber workers),
                # and never the last one, so the stream moves on.
                serving = server.worker_pids(min_age=1.0)
                if len(serving) > 1:
                    server.kill_worker(rng.choice(serving))
                    kills += 1

        def send(delivery: tuple[bytes, dict[str, str]]) -> int:
            body, headers = delivery
            with httpx.Client(timeout=10) as http:
                for attempt in range(MAX_ATTEMPTS):
                    attempts[headers["X-Shopify-Webhook-Id"]] += 1
                    try:
                        response = http.post(
                            f"{server.base}/webhooks", content=body, headers=headers
                        )
                        if response.status_code == 200:
                            return attempt
                        assert response.status_code >= 500, response.text
                    except httpx.TransportError:
                        pass  # the worker died with the connection: retry
                    time.sleep(min(0.05 * 2**attempt, 0.5))
            raise AssertionError("a delivery never got through")

        killing = threading.Thread(target=killer, daemon=True)
        killing.start()
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                retries = sum(pool.map(send, deliveries))
        finally:
            done.set()
            killing.join(5)

    assert kills >= 5, "too few kills to mean anything"
    assert retries > 0, "no delivery was ever interrupted: the test proved nothing"
    k = app.extensions["kanta"]
    with k.db.read() as session:
        balances = dict(
            session.execute(select(Customer.shopify_customer_id, Customer.points_balance)).all()
        )
        awards = session.scalar(select(func.count()).select_from(LedgerEntry))
        receipts = session.scalar(select(func.count()).select_from(WebhookReceipt))
    assert balances == dict(expected)
    assert awards == ORDERS
    assert receipts == ORDERS
    verify = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output

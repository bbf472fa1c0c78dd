"""The database refusing and stalling mid-stream, through a TCP proxy the test controls: every
wait is bounded (a 5xx within a few seconds, never a worker held for as long as TCP takes),
nothing is half-written, and the retry Shopify sends afterwards converges."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from plugin.models import Customer, LedgerEntry, WebhookReceipt
from tests.conftest import install_shop, post_webhook, test_env
from tests.harness import TcpProxy, tcp_proxy
from tests.test_webhooks import CUSTOMER_ID, paid_order

pytestmark = pytest.mark.postgres_only

# The default KANTA_DB_TIMEOUT (2 s): statement and lock timeouts and the client's own deadline.
# A stall costs at most that plus a 2 s reconnect; a little slack for a busy machine.
FAST_ENOUGH = 4.5  # seconds: Shopify gives up on a delivery after 5


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    url = make_url(postgres_url)
    with tcp_proxy((url.host or "127.0.0.1", url.port or 5432)) as p:
        yield p


@pytest.fixture
def proxied_app(make_app: Callable[..., Flask], postgres_url: str, proxy: TcpProxy) -> Flask:
    through_proxy = make_url(postgres_url).set(port=proxy.port)
    url = through_proxy.render_as_string(hide_password=False)
    return make_app(env=test_env(url))


def bounded(call: Callable[[], Any], limit: float = 15.0) -> tuple[Any, float]:
    """Run ``call`` in a thread so that a hang fails the test instead of stalling the suite."""
    result: list[Any] = []
    start = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(limit)
    assert result, f"still waiting after {limit} s: no deadline on the database"
    return result[0], time.monotonic() - start


def counts(app: Flask) -> tuple[int, int, int]:
    with app.extensions["kanta"].db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(WebhookReceipt)) or 0,
            session.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
            session.scalar(select(func.coalesce(func.sum(Customer.points_balance), 0))) or 0,
        )


def deliver(client: FlaskClient, n: int) -> TestResponse:
    return post_webhook(
        client, "orders/paid", paid_order(7_100_000_000_000_000_100 + n), webhook_id=f"w-{n}"
    )


@pytest.mark.parametrize("fault", ["stall", "refuse"])
def test_a_database_fault_mid_stream_is_a_fast_5xx_and_the_retries_converge(
    proxied_app: Flask, proxy: TcpProxy, fault: str
) -> None:
    app, client = proxied_app, proxied_app.test_client()
    install_shop(app)
    assert [deliver(client, n).status_code for n in range(3)] == [200] * 3
    before = counts(app)

    proxy.set_mode(fault)
    for n in (3, 4):
        response, seconds = bounded(lambda n=n: deliver(client, n))
        assert response.status_code >= 500, response.get_data(as_text=True)
        assert seconds < FAST_ENOUGH
        assert "Traceback" not in response.get_data(as_text=True)
    health, seconds = bounded(lambda: client.get("/healthz"))
    assert health.status_code == 503
    assert health.get_json() == {"status": "error", "database": "unreachable"}
    assert seconds < FAST_ENOUGH

    proxy.set_mode("forward")
    assert counts(app) == before  # nothing of the failed deliveries was written
    # Shopify retries (same webhook ids), and sends one of them twice.
    statuses = [deliver(client, n).status_code for n in (3, 4, 4)]
    assert statuses == [200, 200, 200]
    assert counts(app) == (5, 5, 5 * 40)
    assert client.get("/healthz").status_code == 200


def test_server_side_timeouts_are_set_on_every_connection(proxied_app: Flask) -> None:
    with proxied_app.extensions["kanta"].db.read() as session:
        values = [
            session.execute(select(func.current_setting(name))).scalar_one()
            for name in ("statement_timeout", "lock_timeout", "search_path")
        ]
    assert values[:2] == ["2s", "2s"]
    assert values[2].startswith("kanta_test_")  # the URL's own options are kept


def test_a_lock_wait_past_the_timeout_is_a_5xx_not_a_hang(
    proxied_app: Flask, proxy: TcpProxy
) -> None:
    """Another transaction holds the customer's row: the delivery waits at most the lock
    timeout, answers 5xx (Shopify retries), and goes through once the lock is gone."""
    app, client = proxied_app, proxied_app.test_client()
    install_shop(app)
    assert deliver(client, 0).status_code == 200
    k = app.extensions["kanta"]
    with k.db.transaction() as session:
        session.execute(
            select(Customer.id).where(Customer.shopify_customer_id == CUSTOMER_ID).with_for_update()
        )
        response, seconds = bounded(lambda: deliver(client, 1))
        assert response.status_code >= 500
        assert seconds < FAST_ENOUGH
    assert deliver(client, 1).status_code == 200
    assert counts(app) == (2, 2, 80)


def test_jobs_and_commands_that_sweep_whole_shops_lift_the_bounds_for_their_transaction(
    proxied_app: Flask,
) -> None:
    """``ledger verify`` or the daily job on a large shop may rightly take longer than a
    request's bound; only their own transaction is unbounded, and the connection goes back
    to the pool bounded."""
    db = proxied_app.extensions["kanta"].db

    def bounds(session: Any) -> tuple[str, object]:
        timeout = session.execute(select(func.current_setting("statement_timeout"))).scalar_one()
        return timeout, session.connection().connection.dbapi_connection.deadline

    with db.read(long_running=True) as session:
        assert bounds(session) == ("0", None)
    with db.transaction(long_running=True) as session:
        assert bounds(session) == ("0", None)
    with db.transaction() as session:
        assert bounds(session) == ("2s", 2.0)
    with db.read() as session:
        assert bounds(session) == ("2s", 2.0)

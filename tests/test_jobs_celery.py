"""Background jobs through Celery with the real Redis broker, as in production
(``KANTA_JOBS=celery``): a job enqueued by the app is picked up by a worker and does its work."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from flask import Flask

from plugin.jobs import CeleryJobs
from tests.conftest import Clock, install_shop, test_env
from tests.story import Shopper, line

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def celery_app(make_app: Callable[..., Flask], database_url: str) -> Flask:
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = test_env(database_url, KANTA_JOBS="celery", REDIS_URL=REDIS_URL)
    return make_app(env=env)


def _worker(jobs: CeleryJobs) -> Any:
    """A real Celery worker in this process, consuming the app's queue on the test Redis."""
    return start_worker(
        jobs.celery,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=10,
        hostname=f"kanta-test-{uuid.uuid4().hex[:6]}@localhost",
    )


def test_the_daily_job_runs_on_a_celery_worker_over_redis(celery_app: Flask, clock: Clock) -> None:
    install_shop(celery_app, program={"pending_days": 3})
    shopper = Shopper(celery_app, celery_app.test_client())
    shopper.pays(shopper.order(line("Chair", "100.00")))
    assert (shopper.points, shopper.pending) == (0, 100)
    clock.advance(days=3)

    jobs = celery_app.extensions["kanta"].jobs
    assert isinstance(jobs, CeleryJobs)
    with _worker(jobs):
        jobs.enqueue("daily")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and shopper.points != 100:
            time.sleep(0.1)
    assert (shopper.points, shopper.pending) == (100, 0)


def test_a_paid_delivery_sends_nothing_to_the_broker_and_beats_drain_learns(
    celery_app: Flask, clock: Clock
) -> None:
    """The outbox in production: the request marks the customer in its own transaction and
    sends no message; the drain Celery beat schedules every two seconds does the learning."""
    install_shop(celery_app)
    broker = redis.Redis.from_url(REDIS_URL)
    before = {key: broker.llen(key) for key in broker.keys() if broker.type(key) == b"list"}
    shopper = Shopper(celery_app, celery_app.test_client())
    shopper.pays(shopper.order(line("Chair", "100.00"), payment_gateway="paypal"))
    after = {key: broker.llen(key) for key in broker.keys() if broker.type(key) == b"list"}
    assert after == before  # no task queued by the delivery

    jobs = celery_app.extensions["kanta"].jobs
    assert isinstance(jobs, CeleryJobs)
    [drain] = [
        entry
        for entry in jobs.celery.conf.beat_schedule.values()
        if entry["task"] == "kanta.sync_requested_customers"
    ]
    assert drain["schedule"] == 2.0
    with _worker(jobs):
        jobs.celery.send_task(drain["task"])  # what beat sends
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not _learned(celery_app):
            time.sleep(0.1)
    assert _learned(celery_app) == [("payment", "PayPal")]


def _learned(app: Flask) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from plugin.models import CustomerPreference

    with app.extensions["kanta"].db.read() as session:
        return [
            (kind, value)
            for kind, value in session.execute(
                select(CustomerPreference.kind, CustomerPreference.value).where(
                    CustomerPreference.kind == "payment"
                )
            )
        ]

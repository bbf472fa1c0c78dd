"""Background jobs through Celery with the real Redis broker, as in production
(``KANTA_JOBS=celery``): a job enqueued by the app is picked up by a worker and does its work."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

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


def test_the_daily_job_runs_on_a_celery_worker_over_redis(celery_app: Flask, clock: Clock) -> None:
    install_shop(celery_app, program={"pending_days": 3})
    shopper = Shopper(celery_app, celery_app.test_client())
    shopper.pays(shopper.order(line("Chair", "100.00")))
    assert (shopper.points, shopper.pending) == (0, 100)
    clock.advance(days=3)

    jobs = celery_app.extensions["kanta"].jobs
    assert isinstance(jobs, CeleryJobs)
    with start_worker(
        jobs.celery,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=10,
        hostname=f"kanta-test-{uuid.uuid4().hex[:6]}@localhost",
    ):
        jobs.enqueue("daily")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and shopper.points != 100:
            time.sleep(0.1)
    assert (shopper.points, shopper.pending) == (100, 0)

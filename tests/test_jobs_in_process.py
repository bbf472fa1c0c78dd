"""The embedded default's in-process jobs: the daily job runs at 03:00 UTC without Celery."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask

from plugin.jobs import ThreadJobs, seconds_until_daily
from tests.conftest import Clock, install_shop
from tests.story import Shopper, line


def test_seconds_until_the_next_daily_run() -> None:
    assert seconds_until_daily(datetime(2026, 5, 1, 2, 59, 30, tzinfo=UTC)) == 30
    assert seconds_until_daily(datetime(2026, 5, 1, 3, 0, tzinfo=UTC)) == 24 * 3600
    assert seconds_until_daily(datetime(2026, 5, 1, 23, 0, tzinfo=UTC)) == 4 * 3600


def test_the_scheduler_thread_runs_the_daily_job_when_it_is_due(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    app = make_app()
    install_shop(app, program={"pending_days": 1})
    shopper = Shopper(app, app.test_client())
    shopper.pays(shopper.order(line("Chair", "100.00")))
    assert shopper.pending == 100

    # A day later, a moment before 03:00 UTC: the in-process scheduler releases the points.
    clock.now = datetime(2026, 3, 4, 2, 59, 59, 800_000, tzinfo=UTC)
    jobs = ThreadJobs(app.extensions["kanta"])
    try:
        jobs.ensure_schedule()
        jobs.ensure_schedule()  # idempotent: one scheduler thread
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and shopper.points != 100:
            time.sleep(0.05)
    finally:
        jobs.shutdown()
    assert (shopper.points, shopper.pending) == (100, 0)


def test_cli_commands_start_no_threads(make_app: Callable[..., Flask]) -> None:
    import threading

    before = {t.name for t in threading.enumerate()}
    app = make_app(TESTING=False)
    result = app.test_cli_runner().invoke(args=["shops", "list"])
    assert result.exit_code == 0
    assert isinstance(app.extensions["kanta"].jobs, ThreadJobs)
    started = {t.name for t in threading.enumerate()} - before
    assert not {"kanta-jobs", "kanta-schedule"} & started


def test_nudges_while_a_drain_waits_in_the_queue_are_served_by_that_drain(
    make_app: Callable[..., Flask],
) -> None:
    from plugin.jobs import JOBS, job

    app = make_app()
    ran: list[int] = []
    gate = threading.Event()

    @job("test_blocker")
    def blocker(kanta: object) -> None:
        gate.wait(5)

    @job("test_drain")
    def drain(kanta: object) -> None:
        ran.append(1)

    jobs = ThreadJobs(app.extensions["kanta"])
    try:
        jobs.enqueue("test_blocker")  # holds the worker, so the drain waits in the queue
        for _ in range(5):
            jobs.nudge("test_drain")
        gate.set()
        jobs.join()
        assert ran == [1]  # five nudges, one drain
        jobs.nudge("test_drain")  # a nudge after the drain started is a new run
        jobs.join()
        assert ran == [1, 1]
    finally:
        jobs.shutdown()
        del JOBS["test_blocker"], JOBS["test_drain"]

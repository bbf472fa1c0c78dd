"""Background work: what runs after a commit or on a schedule.

Jobs are plain functions ``job(kanta, **kwargs)`` registered by name. Where they run is
configuration:

- **in-process** (the embedded default and the tests): after the transaction commits, the job
  runs on one tracked worker thread owned by the app (eager, in the caller, under tests);
- **Celery with Redis** (``KANTA_JOBS=celery``, production): the job's name and arguments go to
  the broker and a ``celery worker`` runs it; ``celery beat`` drives the periodic jobs.

Jobs must be idempotent: Celery delivers at least once and a retry may repeat work.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, select

if TYPE_CHECKING:
    from ..runtime import Kanta

log = logging.getLogger(__name__)

Job = Callable[..., Any]
JOBS: dict[str, Job] = {}


def job(name: str) -> Callable[[Job], Job]:
    def register(fn: Job) -> Job:
        JOBS[name] = fn
        return fn

    return register


@dataclass(frozen=True)
class JobRequest:
    """A job a unit of work asks for, to be enqueued once it has committed."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    # A drain of an outbox the transaction wrote (no arguments): ``JobQueue.nudge``.
    nudge: bool = False


class JobQueue(Protocol):
    def enqueue(self, name: str, **kwargs: Any) -> None: ...

    def nudge(self, name: str) -> None:
        """An outbox drain has work: run it soon. Several nudges may be served by one run; a
        queue whose scheduler runs the drain on its own (Celery beat) may do nothing."""

    def shutdown(self) -> None: ...


class EagerJobs:
    """Runs each job at once in the caller: deterministic, for tests and CLI commands."""

    def __init__(self, kanta: Kanta) -> None:
        self._kanta = kanta

    def enqueue(self, name: str, **kwargs: Any) -> None:
        JOBS[name](self._kanta, **kwargs)

    def nudge(self, name: str) -> None:
        JOBS[name](self._kanta)

    def shutdown(self) -> None:
        return None


# The daily job's time, shared by Celery beat and the in-process scheduler.
DAILY_AT = dtime(3, 0)


def seconds_until_daily(now: datetime, at: dtime = DAILY_AT) -> float:
    """Seconds from ``now`` (UTC) to the next ``at`` o'clock UTC."""
    target = datetime.combine(now.date(), at, tzinfo=UTC)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


class ThreadJobs:
    """The embedded default's background worker: one tracked thread draining a queue, and one
    tracked scheduler thread that enqueues the daily job at ``DAILY_AT`` (what Celery beat does
    in production). The scheduler starts with the first request a server handles, never in CLI
    commands; with several server processes each runs it, which is harmless as jobs are
    idempotent."""

    def __init__(self, kanta: Kanta) -> None:
        self._kanta = kanta
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._scheduler: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._nudged: set[str] = set()  # drains queued and not yet started

    def enqueue(self, name: str, **kwargs: Any) -> None:
        if name not in JOBS:
            raise KeyError(name)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kanta-jobs", daemon=True)
                self._thread.start()
        self._queue.put((name, kwargs))

    def nudge(self, name: str) -> None:
        # A drain queued and not yet started will see this commit's outbox rows: one is enough.
        with self._lock:
            if name in self._nudged:
                return
            self._nudged.add(name)
        self.enqueue(name)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            name, kwargs = item
            with self._lock:
                self._nudged.discard(name)
            try:
                JOBS[name](self._kanta, **kwargs)
            except Exception:  # a failed job must not kill the worker; it is logged
                log.exception("job %s failed", name)

    def ensure_schedule(self) -> None:
        if self._scheduler is not None:
            return
        with self._lock:
            if self._scheduler is None:
                self._scheduler = threading.Thread(
                    target=self._schedule, name="kanta-schedule", daemon=True
                )
                self._scheduler.start()

    def _schedule(self) -> None:
        while not self._stop.wait(seconds_until_daily(self._kanta.now())):
            self.enqueue("daily")

    def join(self) -> None:
        """Wait until every queued job has run (used by the demo's CLI commands)."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join()
        self._thread = None

    def shutdown(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.join()
            self._scheduler = None
        self.join()


class CeleryJobs:
    def __init__(self, kanta: Kanta) -> None:
        from ..celery_app import make_celery

        self._celery = make_celery(kanta)

    @property
    def celery(self) -> Any:
        return self._celery

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self._celery.send_task(f"kanta.{name}", kwargs=kwargs)

    def nudge(self, name: str) -> None:
        # Celery beat runs every outbox drain on its own schedule (plugin/celery_app.py): a
        # request sends nothing to the broker.
        return None

    def shutdown(self) -> None:
        return None


def build_job_queue(kanta: Kanta, *, eager: bool) -> JobQueue:
    if not kanta.settings.run_jobs_in_process:
        return CeleryJobs(kanta)
    if eager:
        return EagerJobs(kanta)
    return ThreadJobs(kanta)


# --- the jobs ------------------------------------------------------------------------------


@job("daily")
def run_daily(kanta: Kanta, now: str | None = None) -> dict[str, int]:
    """Release pending points, expire inactive balances, age tiers: for every installed shop,
    each shop in its own transaction so one shop's failure cannot block another's (it is
    logged, counted in ``shops_failed`` and tried again the next day: every step is
    idempotent)."""
    from .. import ledger
    from ..models import Shop

    moment = datetime.fromisoformat(now) if now else kanta.now()
    totals = {"released": 0, "expired": 0, "tiers_changed": 0, "shops_failed": 0}
    with kanta.db.read() as session:
        shop_ids = list(session.scalars(select(Shop.id).where(Shop.uninstalled_at.is_(None))))
    for shop_id in shop_ids:
        try:
            with kanta.db.transaction(long_running=True) as session:
                shop = session.get(Shop, shop_id)
                if shop is None:
                    continue
                totals["released"] += ledger.release_pending_points(session, shop, moment)
                totals["expired"] += ledger.expire_inactive_points(session, shop, moment)
                totals["tiers_changed"] += ledger.refresh_tiers(session, shop, moment)
        except Exception:  # one shop's failure must not stop the others; it is logged
            log.exception("daily jobs failed for shop %s", shop_id)
            totals["shops_failed"] += 1
    totals["tokens_refreshed"] = keep_tokens_alive(kanta, moment)
    totals["redemptions_reconciled"] = JOBS["reconcile_redemptions"](kanta)
    totals["receipts_pruned"] = prune_webhook_receipts(kanta, moment)
    log.info("daily jobs done: %s", totals)
    return totals


def keep_tokens_alive(kanta: Kanta, now: datetime) -> int:
    """Rotate the refresh tokens of installed shops that would otherwise expire unused."""
    from ..install import REFRESH_TOKEN_MARGIN, ReauthorizationRequired, access_token_for
    from ..models import Shop
    from ..shopify.gateway import ShopifyError

    with kanta.db.read() as session:
        due = list(
            session.scalars(
                select(Shop.id).where(
                    Shop.uninstalled_at.is_(None),
                    Shop.refresh_token_enc.is_not(None),
                    Shop.refresh_token_expires_at < now + REFRESH_TOKEN_MARGIN,
                )
            )
        )
    refreshed = 0
    for shop_id in due:
        try:
            access_token_for(kanta, shop_id)
            refreshed += 1
        except (ReauthorizationRequired, ShopifyError) as error:
            log.warning("could not refresh the token of shop %s: %s", shop_id, type(error).__name__)
        except Exception:  # one shop's broken token must not stop the other shops or the job
            log.exception("refreshing the token of shop %s failed", shop_id)
    return refreshed


# Shopify retries a delivery for 4 hours and a retry may be delayed further; a month of receipts
# is far more than any redelivery needs, and the business keys (order, refund) stay forever.
RECEIPT_RETENTION = timedelta(days=30)


def prune_webhook_receipts(kanta: Kanta, now: datetime) -> int:
    from ..models import WebhookReceipt

    with kanta.db.transaction(long_running=True) as session:
        result = session.connection().execute(
            delete(WebhookReceipt).where(WebhookReceipt.received_at < now - RECEIPT_RETENTION)
        )
        return max(result.rowcount, 0)


# Job modules register themselves with @job on import (after JOBS and job() exist above).
from . import balance_import, shop_facts  # noqa: E402, F401
from . import checkout_functions as _checkout_functions  # noqa: E402, F401
from . import preferences as _preferences  # noqa: E402, F401
from . import redemptions as _redemptions  # noqa: E402, F401

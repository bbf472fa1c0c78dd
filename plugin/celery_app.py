"""The Celery app behind ``KANTA_JOBS=celery``: tasks are the functions in ``plugin.jobs``.

Run a worker with ``celery -A plugin.celery_worker worker --beat``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from celery import Celery
from celery.schedules import crontab

if TYPE_CHECKING:
    from .runtime import Kanta


def make_celery(kanta: Kanta) -> Celery:
    from .jobs import DAILY_AT, JOBS
    from .jobs.preferences import DRAIN_EVERY, SYNC_REQUESTED

    broker = kanta.settings.redis_url or "redis://127.0.0.1:6379/0"
    celery = Celery("kanta", broker=broker, backend=None)
    celery.conf.update(
        task_acks_late=True,  # a killed worker's task is redelivered; jobs are idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="UTC",
        beat_schedule={
            "kanta-daily": {
                "task": "kanta.daily",
                "schedule": crontab(hour=DAILY_AT.hour, minute=DAILY_AT.minute),
            },
            # The outbox of customers whose preferences and metafield are due (the webhooks
            # mark them in their own transaction); a drain not started in time is dropped,
            # the next one does its work.
            "kanta-sync-requested": {
                "task": f"kanta.{SYNC_REQUESTED}",
                "schedule": DRAIN_EVERY.total_seconds(),
                "options": {"expires": 5 * DRAIN_EVERY.total_seconds()},
            },
        },
    )
    for name, fn in JOBS.items():
        # Not shared: each app (a test makes several) registers its own, bound to its Kanta.
        celery.task(name=f"kanta.{name}", bind=False, shared=False)(_bind(kanta, fn))
    return celery


def _bind(kanta: Kanta, fn: Any) -> Any:
    def run(**kwargs: Any) -> Any:
        return fn(kanta, **kwargs)

    run.__name__ = fn.__name__
    return run

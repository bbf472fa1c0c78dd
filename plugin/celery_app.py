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
        },
    )
    for name, fn in JOBS.items():
        celery.task(name=f"kanta.{name}", bind=False)(_bind(kanta, fn))
    return celery


def _bind(kanta: Kanta, fn: Any) -> Any:
    def run(**kwargs: Any) -> Any:
        return fn(kanta, **kwargs)

    run.__name__ = fn.__name__
    return run

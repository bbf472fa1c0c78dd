"""Entry point for ``celery -A plugin.celery_worker worker --beat`` (production).

Importing this module builds the app once, as gunicorn does with ``app:create_app()``.
"""

from __future__ import annotations

from app import create_app

from .jobs import CeleryJobs

_flask_app = create_app()
_jobs = _flask_app.extensions["kanta"].jobs
if not isinstance(_jobs, CeleryJobs):
    raise SystemExit("kanta: set KANTA_JOBS=celery (and REDIS_URL) to run a Celery worker")
celery = _jobs.celery

import gc
import os

# gunicorn reads this file from the working directory (the repository root): Kanta's access log
# never writes a session token, an HMAC or an OAuth code (see plugin/log_redaction.py).
logger_class = "plugin.log_redaction.RedactingLogger"

# Threads per worker (``KANTA_GUNICORN_THREADS``, 1 by default: sync workers, two per core as the
# README deploys them). Sync workers are also the faster choice for the webhooks: on 2 cores, 4
# sync workers took 25 % more deliveries a second than 2 workers of 4 threads, whose threads
# contend for one interpreter lock per process (bench/README.md, 2026-12-02 17:26).
threads = int(os.environ.get("KANTA_GUNICORN_THREADS", "1") or "1")
worker_class = "gthread" if threads > 1 else "sync"


def post_worker_init(worker: object) -> None:
    """What the worker loaded at start-up (modules, the app, compiled statements) lives as long
    as the worker: freeze it out of the garbage collector's full collections, each of which
    walked those ~120,000 objects and held a request for 30–70 ms."""
    gc.collect()
    gc.freeze()

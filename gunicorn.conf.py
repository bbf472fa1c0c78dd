import gc
import os

# gunicorn reads this file from the working directory (the repository root): Kanta's access log
# never writes a session token, an HMAC or an OAuth code (see plugin/log_redaction.py).
logger_class = "plugin.log_redaction.RedactingLogger"

# Threads per worker (``KANTA_GUNICORN_THREADS``, 1 by default: sync workers). A webhook
# delivery mostly waits for its commit to reach disk; with threads several transactions are in
# flight per process and PostgreSQL flushes their commits together, so a server that takes the
# webhooks runs threaded (the webhook benchmark uses 4). The checkout widget's short reads are
# faster on sync workers (bench/README.md), hence the default.
threads = int(os.environ.get("KANTA_GUNICORN_THREADS", "1") or "1")
worker_class = "gthread" if threads > 1 else "sync"


def post_worker_init(worker: object) -> None:
    """What the worker loaded at start-up (modules, the app, compiled statements) lives as long
    as the worker: freeze it out of the garbage collector's full collections, each of which
    walked those ~120,000 objects and held a request for 30–70 ms."""
    gc.collect()
    gc.freeze()

# gunicorn reads this file from the working directory (the repository root): Kanta's access log
# never writes a session token, an HMAC or an OAuth code (see plugin/log_redaction.py).
logger_class = "plugin.log_redaction.RedactingLogger"

# Threads per worker: a delivery spends most of its time waiting on the database (the commit's
# flush to disk above all), and sync workers would leave the cores idle meanwhile. With threads,
# several transactions are in flight per process and PostgreSQL flushes their commits together
# (bench/README.md: the webhook benchmark). Every request-scoped object (sessions, connections)
# is per thread; the process-wide caches are locked.
worker_class = "gthread"
threads = 4

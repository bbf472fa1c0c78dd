"""Engine, sessions and transactions.

One ``Database`` per app. Request handlers and jobs open a unit of work with
``db.transaction()``; nothing commits anywhere else. SQLite (the embedded default) runs in WAL
mode with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing on lock
upgrades; PostgreSQL uses row locks (``SELECT … FOR UPDATE``) taken by the service layer.

Every PostgreSQL wait is bounded (``timeout`` seconds, ``KANTA_DB_TIMEOUT``, 2 by default), so a
stalled database costs a request a few seconds and a 5xx, not a sync worker for as long as TCP
takes to give up (Shopify waits 5 s, then retries):

- the server ends a statement, or a wait for a lock, past ``timeout`` (``statement_timeout``,
  ``lock_timeout``), and a transaction left idle for a minute
  (``idle_in_transaction_session_timeout``);
- the client gives the server ``timeout`` to answer anything, then closes the connection
  (SQLAlchemy then drops it from the pool). A stalled server, or a proxy that keeps the socket
  open but forwards nothing, never answers, so the server's own timeouts cannot help there;
- connecting gives up after 2 s (libpq's minimum), and TCP keepalives notice a peer that
  vanished.

So a request waits at most ``timeout`` + 2 s on a database that stops answering (4 s by
default: the pool's pre-ping times out, then the reconnect does), below Shopify's 5 s.

``Database.run_read`` is the hot read path (the checkout widget): on PostgreSQL an engine of its
own, in autocommit and **without** the pre-ping, whose round trip was a third of the widget's
time (bench/README.md). The same deadlines bound it; instead of pinging every request, a read
that finds its pooled connection dead (the server restarted, a proxy dropped it) is retried
once on a new connection, so a dead connection never reaches the shopper as a 5xx. A stall
(``DatabaseStalled``: the client's deadline expired) is not retried: it costs ``timeout``, then
a 5xx, within the same budget as above.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .postgres import DatabaseStalled, DeadlineConnection, Pipeline
from .sqlite_writers import WriterQueue

__all__ = ["Database", "DatabaseStalled", "build_engine", "insert_for"]

T = TypeVar("T")

READ_ONLY = "kanta_read_only"
DEFAULT_TIMEOUT = 2.0
CONNECT_TIMEOUT = 2  # seconds; libpq's minimum
# A transaction may wait on Shopify (a token exchange or refresh under the shop's row lock, with
# a 10 s HTTP timeout): only a session left idle far longer than that is ended by the server.
IDLE_IN_TRANSACTION_MS = 60_000


def insert_for(session: Session, target: Any) -> Any:
    """``INSERT`` in the session's dialect, so ``ON CONFLICT`` (upserts, idempotent inserts) and
    ``RETURNING`` are available on both PostgreSQL and SQLite."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(target)
    if dialect == "sqlite":
        return sqlite.insert(target)
    raise NotImplementedError(f"no upsert support for {dialect}")


def build_engine(url: str, *, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_timeout", timeout + 1)
    engine = create_engine(url, **kwargs)
    if parsed.get_driver_name() == "psycopg":
        _bound_postgresql_waits(engine, timeout)
    return engine


def _bound_postgresql_waits(engine: Engine, timeout: float) -> None:
    millis = int(timeout * 1000)
    server_side = (
        f"-c statement_timeout={millis} -c lock_timeout={millis} "
        f"-c idle_in_transaction_session_timeout={max(millis * 5, IDLE_IN_TRANSACTION_MS)}"
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        # URL options (a search_path, say) are kept; ours are added to them.
        cparams["options"] = " ".join(filter(None, [cparams.get("options"), server_side]))
        cparams.setdefault("connect_timeout", CONNECT_TIMEOUT)
        cparams.setdefault("keepalives", 1)
        cparams.setdefault("keepalives_idle", 5)
        cparams.setdefault("keepalives_interval", 2)
        cparams.setdefault("keepalives_count", 2)
        cparams.setdefault("tcp_user_timeout", millis)
        connection = DeadlineConnection.connect(*cargs, **cparams)
        connection.deadline = timeout
        return connection


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        # FULL, not NORMAL: in WAL mode NORMAL skips the sync at commit, so a power cut or an OS
        # crash can undo transactions already committed: a delivery Shopify was answered 200 for
        # (and never sends again) would lose its points. FULL syncs the WAL at every commit.
        cursor.execute("PRAGMA synchronous=FULL")
        # A WAL grown under a burst (it can only restart once no reader is in it) is cut back to
        # this size when it restarts, instead of keeping its peak size on disk.
        cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_LIMIT_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a reader that later writes would otherwise fail
        # with "database is locked" instead of waiting its turn. Read-only sessions take a
        # plain (deferred) transaction and never wait on, nor block, the writers (WAL).
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            begin_immediate(connection.connection.dbapi_connection)


SQLITE_BUSY_MS = 30_000
SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024


def begin_immediate(dbapi_connection: sqlite3.Connection, *, wait: bool = True) -> bool:
    """``BEGIN IMMEDIATE``: wait for SQLite's write lock, for as long as the busy timeout; with
    ``wait=False`` try once, and say whether the transaction began.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms… between its tries, so a writer
    queued behind a transaction of a millisecond or two slept on long after the lock was free:
    with four server processes the lock sat idle between deliveries (bench/README.md). Writers
    ask for it themselves instead, trying again after 0.1 ms, then 0.2, up to 1 ms apart."""
    execute = dbapi_connection.execute
    execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
        pause = 0.0001
        while True:
            try:
                execute("BEGIN IMMEDIATE")
                return True
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if busy and not wait:
                    return False
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.001)
    finally:
        execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


class Database:
    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, **engine_kwargs: Any) -> None:
        self.url = url
        self._timeout = timeout
        self._engine_kwargs = engine_kwargs
        self.engine = build_engine(url, timeout=timeout, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has no pre-ping nor round trips: its reads share the main engine.
        self.read_engine = (
            self.engine
            if self.is_sqlite
            else build_engine(
                url,
                timeout=timeout,
                **{**engine_kwargs, "pool_pre_ping": False, "isolation_level": "AUTOCOMMIT"},
            )
        )

        # The express lane's writes (``raw_transaction``): no pre-ping either, a dead connection
        # is retried by the caller instead (a delivery is idempotent). Its connections are
        # driven by ``Pipeline``, which prepares its own statements: psycopg must prepare none
        # (its rollback would then deallocate them all), and there is nothing to reset on
        # return (``raw_transaction`` always ends its transaction or drops the connection).
        self._raw_engine: Engine | None = None
        # Its SQLite writers take turns in the kernel first (plugin/sqlite_writers.py).
        self._writers = WriterQueue(url) if self.is_sqlite else None

    @property
    def raw_engine(self) -> Engine:
        if self._raw_engine is None:
            self._raw_engine = (
                self.engine
                if self.is_sqlite
                else build_engine(
                    self.url,
                    timeout=self._timeout,
                    **{
                        **self._engine_kwargs,
                        "pool_pre_ping": False,
                        "pool_reset_on_return": None,
                        "connect_args": {
                            **self._engine_kwargs.get("connect_args", {}),
                            "prepare_threshold": None,
                        },
                    },
                )
            )
        return self._raw_engine

    @contextmanager
    def raw_transaction(self) -> Iterator[Any]:
        """A driver cursor in one transaction (committed on success, rolled back on any
        exception), for the few hot statements written by hand (``ledger.express``). SQLite
        takes the write lock up front, as ``transaction`` does. On PostgreSQL the "cursor" is a
        ``postgres.Pipeline``: ``execute`` queues a statement and returns its answer, and the
        round trip happens only when an answer is read (the BEGIN goes with the first batch,
        the last statements with the COMMIT), so a statement's error may surface only then."""
        fairy = self.raw_engine.raw_connection()
        dbapi: Any = fairy.dbapi_connection
        pipeline = None if self.is_sqlite else Pipeline(dbapi)
        turn = None
        try:
            if pipeline is None:
                assert self._writers is not None
                turn = self._writers.enter()
                if not begin_immediate(dbapi, wait=False):
                    # A writer outside the queue holds SQLite's lock: wait for it without
                    # holding the turn, as any writer waits (plugin/sqlite_writers.py).
                    WriterQueue.leave(turn)
                    turn = None
                    begin_immediate(dbapi)
                cursor = dbapi.cursor()
                yield cursor
                cursor.execute("COMMIT")
            else:
                yield pipeline
                pipeline.commit()
        except BaseException:
            try:
                if self.is_sqlite:
                    if dbapi.in_transaction:
                        dbapi.execute("ROLLBACK")
                else:
                    assert pipeline is not None
                    pipeline.close()
                    dbapi.rollback()
            except Exception:  # the connection is gone: drop it from the pool
                fairy.invalidate()
            raise
        finally:
            WriterQueue.leave(turn)  # after the COMMIT or the ROLLBACK
            fairy.close()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, *, long_running: bool = False) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception.

        ``long_running`` (jobs and CLI commands that sweep whole shops, never requests) lifts
        the statement timeout and the client's deadline for this transaction only."""
        with self.sessions() as session, session.begin():
            with self._unbounded(session) if long_running else nullcontext():
                yield session

    @contextmanager
    def read(self, *, long_running: bool = False) -> Iterator[Session]:
        """A session that never commits; closing it ends its transaction and keeps loaded rows
        usable (detached) by the caller. ``long_running`` as for ``transaction``."""
        with self.sessions() as session:
            session.connection(execution_options={READ_ONLY: True})
            with self._unbounded(session) if long_running else nullcontext():
                yield session

    @contextmanager
    def _unbounded(self, session: Session) -> Iterator[None]:
        if self.is_sqlite:
            yield
            return
        connection = session.connection()
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        dbapi = connection.connection.dbapi_connection
        deadline = getattr(dbapi, "deadline", None)
        if isinstance(dbapi, DeadlineConnection):
            dbapi.deadline = None
        try:
            yield
        finally:
            if isinstance(dbapi, DeadlineConnection):
                dbapi.deadline = deadline

    def run_read(self, read: Callable[[Connection], T]) -> T:
        """``read(connection)`` on the read engine (module docstring): read-only, autocommit on
        PostgreSQL, retried once on a new connection when the pooled one was dead. ``read``
        must only read, since it may run twice."""
        for attempt in (1, 2):
            try:
                with self.read_engine.connect() as connection:
                    return read(connection.execution_options(**{READ_ONLY: True}))
            except DBAPIError as error:
                stalled = isinstance(error.orig, DatabaseStalled)
                if attempt == 2 or stalled or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def run_cursor_read(self, read: Callable[[Any], T]) -> T:
        """``run_read`` with the driver's own cursor instead of SQLAlchemy's statement and
        result layers, which cost about a tenth of a millisecond of CPU a statement (the
        checkout widget's one statement on PostgreSQL). Same contract and the same retry: a
        connection found dead is invalidated and ``read`` runs once more on a new one; a stall
        is not retried. No SQLAlchemy events fire for what ``read`` executes."""
        dialect = self.read_engine.dialect
        for attempt in (1, 2):
            pooled = self.read_engine.raw_connection()  # the pool's connection, no Connection
            try:
                cursor = pooled.cursor()
                try:
                    return read(cursor)
                finally:
                    cursor.close()
            except dialect.loaded_dbapi.Error as error:
                stalled = isinstance(error, DatabaseStalled)
                dead = stalled or dialect.is_disconnect(error, pooled.dbapi_connection, None)
                if dead:
                    pooled.invalidate(error)
                if attempt == 2 or stalled or not dead:
                    raise
            finally:
                pooled.close()  # back to the pool (an invalidated one is discarded)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
        if self._raw_engine is not None and self._raw_engine is not self.engine:
            self._raw_engine.dispose()

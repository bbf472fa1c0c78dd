"""PostgreSQL connections: every wait bounded (``DeadlineConnection``), and the express lane's
transaction on libpq's own pipeline (``Pipeline``).

psycopg's pipeline mode sends each statement when it is executed and flushes after every
``execute``, ``commit`` and sync, driving each step through its generators: per delivery the
server was woken about eight times where two round trips were meant, and that machinery was
four tenths of the worker's time in the express lane (bench/README.md). ``Pipeline`` keeps
psycopg's adaptation (its ``Transformer`` dumps the parameters and loads the rows exactly as a
cursor would) and its error classes, but queues statements until an answer is needed, then
sends them with one sync and one flush, and reads everything back in one wait.
"""

from __future__ import annotations

import itertools
import re
import select
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import _WaitTimeout  # what psycopg raises when a wait's timeout expires

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_STATUS = pq.ExecStatus
_INVALID_STATEMENT_NAME = "26000"  # a prepared statement the server no longer has


class DatabaseStalled(psycopg.OperationalError):
    """The server did not answer within the client's deadline (the connection is closed)."""


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server ends after ``deadline`` seconds:
    the connection is then closed (its protocol state is unknown) and OperationalError raised."""

    deadline: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        try:
            return super().wait(gen, interval, self.deadline if timeout is None else timeout)
        except _WaitTimeout:
            self.pgconn.finish()
            raise DatabaseStalled(
                f"the database did not answer within {self.deadline or timeout} s"
            ) from None


@cache
def _numbered(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """``%(name)s`` placeholders as ``$n`` (each name once), and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(number, sql).encode(), tuple(names)


class _Connection:
    """What a pipeline keeps on its connection between transactions: the statements the
    server has prepared (by query and parameter types) and one ``Transformer``."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.prepared: dict[tuple[str, tuple[int, ...]], bytes] = {}
        self.names = itertools.count()
        self.transformer = Transformer(connection)
        self.encoding = connection.info.encoding


class Answer:
    """A queued statement's rows, read when the pipeline next syncs."""

    __slots__ = ("_pipeline", "rows")

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self.rows: list[tuple[Any, ...]] | None = None

    def fetchone(self) -> tuple[Any, ...] | None:
        if self.rows is None:
            self._pipeline.sync()
        assert self.rows is not None
        return self.rows[0] if self.rows else None


class Pipeline:
    """One transaction on ``connection`` in libpq's pipeline mode, cursor-shaped for the
    express lane: ``execute`` queues a statement (``%(name)s`` placeholders; prepared on the
    server the first time, as psycopg would after a few runs) and returns its ``Answer``; the
    first ``fetchone`` of an unread answer sends everything queued (the ``BEGIN`` with the first
    batch) and waits once; ``commit`` sends what is left with the ``COMMIT``. A statement's error
    is raised as psycopg raises it, once the batch has been read to its end, so the connection
    is left idle (in a failed transaction) for psycopg's own ``rollback``. A wait longer than
    the connection's deadline closes it and raises ``DatabaseStalled``."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._pgconn = connection.pgconn
        state = getattr(connection, "_kanta_pipeline", None)
        if state is None:
            state = _Connection(connection)
            connection._kanta_pipeline = state  # type: ignore[attr-defined]
        self._state: _Connection = state
        self._deadline = getattr(connection, "deadline", None)
        # What each queued command answers into: an Answer, or None (BEGIN, a Parse, COMMIT).
        self._queue: list[tuple[Answer | None, tuple[str, tuple[int, ...]] | None]] = []
        self._begun = False
        self.syncs = 0  # round trips, for tests

    def execute(self, sql: str, params: Mapping[str, Any]) -> Answer:
        pgconn, state = self._pgconn, self._state
        if not self._begun:
            pgconn.enter_pipeline_mode()
            pgconn.send_query_params(b"BEGIN", None)
            self._queue.append((None, None))
            self._begun = True
        query, names = _numbered(sql)
        transformer = state.transformer
        values = transformer.dump_sequence(
            [params[name] for name in names], [PyFormat.AUTO] * len(names)
        )
        types = tuple(transformer.types or ())
        key = (sql, types)
        name = state.prepared.get(key)
        if name is None:
            name = b"kanta_%d" % next(state.names)
            pgconn.send_prepare(name, query, param_types=types)
            state.prepared[key] = name
            self._queue.append((None, key))
        pgconn.send_query_prepared(name, values, param_formats=transformer.formats)
        answer = Answer(self)
        self._queue.append((answer, None))
        return answer

    def sync(self) -> None:
        """Send what is queued with a sync, read every answer up to it; raise the first error."""
        if not self._queue:
            return
        pgconn, queue = self._pgconn, self._queue
        self._queue = []
        self.syncs += 1
        pgconn.pipeline_sync()
        deadline = None if self._deadline is None else time.monotonic() + self._deadline
        while pgconn.flush():
            self._wait(select.POLLIN | select.POLLOUT, deadline)
            pgconn.consume_input()
        first_error: psycopg.Error | None = None
        transformer = self._state.transformer
        for answer, parsed in queue:
            result = self._next_result(deadline)
            status = result.status
            if status == _STATUS.FATAL_ERROR:
                error: psycopg.Error = errors.error_from_result(result, self._state.encoding)
                if pgconn.status == pq.ConnStatus.BAD:  # as psycopg raises a lost connection
                    error = psycopg.OperationalError(str(error))
                first_error = first_error or error
                if parsed is not None:  # not prepared after all
                    self._state.prepared.pop(parsed, None)
                if error.sqlstate == _INVALID_STATEMENT_NAME:
                    self._state.prepared.clear()
            elif status == _STATUS.PIPELINE_ABORTED:
                if parsed is not None:
                    self._state.prepared.pop(parsed, None)
            elif answer is not None:
                transformer.set_pgresult(result)
                answer.rows = [transformer.load_row(i, tuple) for i in range(result.ntuples)]
            if self._next_result(deadline) is not None:  # each command's results end with None
                raise errors.InternalError("more than one result for a pipelined command")
            if answer is not None and answer.rows is None:
                answer.rows = []
        end = self._next_result(deadline)
        if end is None or end.status != _STATUS.PIPELINE_SYNC:
            raise errors.InternalError("the pipeline did not end at its sync")
        if first_error is not None:
            pgconn.exit_pipeline_mode()
            raise first_error

    def commit(self) -> None:
        if not self._begun:
            return
        self._pgconn.send_query_params(b"COMMIT", None)
        self._queue.append((None, None))
        self.sync()
        self._pgconn.exit_pipeline_mode()

    def close(self) -> None:
        """After a failure: read whatever is still queued (ignoring its errors) and leave
        pipeline mode, so psycopg can roll back. Raises if the connection cannot."""
        if self._pgconn.pipeline_status == pq.PipelineStatus.OFF:
            return
        try:
            self.sync()
        except psycopg.DatabaseError:
            pass
        if self._pgconn.pipeline_status != pq.PipelineStatus.OFF:
            self._pgconn.exit_pipeline_mode()

    def _next_result(self, deadline: float | None) -> Any:
        pgconn = self._pgconn
        while pgconn.is_busy():
            self._wait(select.POLLIN, deadline)
            pgconn.consume_input()
        return pgconn.get_result()

    def _wait(self, events: int, deadline: float | None) -> None:
        poll = select.poll()
        poll.register(self._pgconn.socket, events)
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not poll.poll(None if timeout is None else timeout * 1000):
            self._pgconn.finish()
            raise DatabaseStalled(f"the database did not answer within {self._deadline} s")

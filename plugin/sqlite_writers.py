"""SQLite's hottest writers queue for its write lock in the kernel.

SQLite's write lock is a file lock taken without waiting: a writer that finds it held can only
sleep and try again (SQLite's busy handler, or ``db.begin_immediate``'s shorter pauses). Under
load the lock then sits free while the next writer sleeps, and writers are served in no order.
So the express lane (``Database.raw_transaction``: every paid order's first delivery) first
takes a turn on an ``flock`` of a file beside the database, ``<database>-writers``. The kernel
hands it to a waiter the moment it is given back, and gives it back itself when the holder's
process dies (a killed worker never leaves it taken).

Holding a turn, the writer tries ``BEGIN IMMEDIATE`` once, without waiting. If a writer outside
the queue holds SQLite's lock (the general path, a job, a CLI command), it gives the turn back
at once and waits for SQLite's lock as every other writer does, within the busy timeout. So a
turn is only ever held by a transaction that is running, never by one that waits. Waiting for a
turn has no timeout of its own: it lasts as long as the express transactions queued ahead, each
a few milliseconds of hand-written statements with nothing in them that waits.
"""

from __future__ import annotations

import fcntl
import os

from sqlalchemy.engine import make_url


class WriterQueue:
    def __init__(self, url: str) -> None:
        database = make_url(url).database
        # An in-memory database has no file to queue beside, and only one connection.
        self.path = f"{database}-writers" if database and database != ":memory:" else None

    def enter(self) -> int | None:
        """Wait for this writer's turn; the file descriptor that holds it (None: no queue)."""
        if self.path is None:
            return None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def leave(turn: int | None) -> None:
        """Give the turn back (closing the file releases its lock)."""
        if turn is not None:
            os.close(turn)

"""The embedded database: a read-only session never blocks a writer (SQLite in WAL mode)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from plugin.db import Database


def test_a_writer_proceeds_while_a_read_session_is_open(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        with db.read() as reader:
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            with db.transaction() as writer:
                writer.execute(text("INSERT INTO t VALUES (1)"))
            # The reader's snapshot began before the write: it still sees its own view.
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        with db.read() as reader:
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        with db.read() as reader:
            mode = reader.execute(text("PRAGMA journal_mode")).scalar_one()
            assert mode == "wal"
    finally:
        db.dispose()


def test_writers_queue_for_the_write_lock_and_keep_the_busy_timeout(tmp_path: Path) -> None:
    """A second writer waits while the first holds SQLite's write lock (``begin_immediate``
    asks for it again and again rather than failing), goes on once it is free, and leaves the
    connection's busy timeout as it found it for the statements that follow."""
    import threading

    from plugin.db import SQLITE_BUSY_MS

    db = Database(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        second_done = threading.Event()

        def second_writer() -> None:
            with db.transaction() as writer:
                writer.execute(text("INSERT INTO t VALUES (2)"))
                timeout = writer.execute(text("PRAGMA busy_timeout")).scalar_one()
                assert timeout == SQLITE_BUSY_MS
            second_done.set()

        with db.transaction() as first:
            first.execute(text("INSERT INTO t VALUES (1)"))
            thread = threading.Thread(target=second_writer)
            thread.start()
            assert not second_done.wait(0.3), "the second writer did not wait for the lock"
        thread.join(10)
        assert second_done.is_set()
        with db.read() as reader:
            assert reader.execute(text("SELECT x FROM t ORDER BY rowid")).scalars().all() == [1, 2]
    finally:
        db.dispose()


def test_a_commit_is_durable_before_it_is_answered(tmp_path: Path) -> None:
    """Every connection syncs the WAL at each commit (``synchronous=FULL``): with NORMAL, a power
    cut could undo a delivery already answered 200, which Shopify never sends again. A WAL grown
    under a burst is cut back once it restarts (``journal_size_limit``)."""
    from plugin.db import SQLITE_WAL_LIMIT_BYTES

    db = Database(f"sqlite:///{tmp_path / 'durable.sqlite3'}")
    try:
        for session_of in (db.transaction, db.read):
            with session_of() as session:
                assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
                limit = session.execute(text("PRAGMA journal_size_limit")).scalar_one()
                assert limit == SQLITE_WAL_LIMIT_BYTES
        with db.raw_transaction() as cursor:
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2
    finally:
        db.dispose()

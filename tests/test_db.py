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


def test_express_writers_take_turns_in_the_kernel_and_a_killed_holder_frees_its_turn(
    tmp_path: Path,
) -> None:
    """The express lane's writers queue on a lock file beside the database
    (plugin/sqlite_writers.py): one waits while another process holds the turn, and goes on
    as soon as that process dies, since the kernel gives a dead process's lock back."""
    import signal
    import subprocess
    import sys
    import threading

    url = f"sqlite:///{tmp_path / 'turns.sqlite3'}"
    db = Database(url)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from plugin.sqlite_writers import WriterQueue; "
            f"WriterQueue({url!r}).enter(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        done = threading.Event()

        def express_write() -> None:
            with db.raw_transaction() as cursor:
                cursor.execute("INSERT INTO t VALUES (1)")
            done.set()

        thread = threading.Thread(target=express_write)
        thread.start()
        assert not done.wait(0.3), "the express writer did not wait for its turn"
        holder.send_signal(signal.SIGKILL)
        assert done.wait(10), "the killed holder's turn was not given back"
        thread.join(10)
        with db.read() as reader:
            assert reader.execute(text("SELECT x FROM t")).scalars().all() == [1]
    finally:
        holder.kill()
        holder.communicate()
        db.dispose()


def test_an_express_writer_never_holds_its_turn_while_it_waits_for_sqlite(
    tmp_path: Path,
) -> None:
    """A writer outside the queue (here a session's transaction) holds SQLite's write lock: the
    express writer gives its turn back and waits as any writer does, so the queue never stands
    still behind a long transaction, and both commit."""
    import fcntl
    import os
    import threading

    from plugin.sqlite_writers import WriterQueue

    url = f"sqlite:///{tmp_path / 'outside.sqlite3'}"
    db = Database(url)
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        done = threading.Event()

        def express_write() -> None:
            with db.raw_transaction() as cursor:
                cursor.execute("INSERT INTO t VALUES (2)")
            done.set()

        with db.transaction() as outside:
            outside.execute(text("INSERT INTO t VALUES (1)"))
            thread = threading.Thread(target=express_write)
            thread.start()
            assert not done.wait(0.3), "the express writer did not wait for SQLite's lock"
            path = WriterQueue(url).path
            assert path is not None
            assert os.path.exists(path)
            fd = os.open(path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the turn is held
            finally:
                os.close(fd)
        assert done.wait(10)
        thread.join(10)
        with db.read() as reader:
            assert reader.execute(text("SELECT x FROM t ORDER BY rowid")).scalars().all() == [1, 2]
    finally:
        db.dispose()


def test_a_session_writer_gets_its_turn_between_a_stream_of_express_writers(
    tmp_path: Path,
) -> None:
    """Express writers of other processes hand the write lock to one another in the kernel's
    queue; a writer of the general path (a refund, a redemption), which waits for SQLite's lock
    as before, is still served among them (within milliseconds here), not starved until its
    busy timeout runs out."""
    import subprocess
    import sys
    import time

    url = f"sqlite:///{tmp_path / 'mixed.sqlite3'}"
    db = Database(url)
    stream = (
        "import time; from plugin.db import Database\n"
        f"db = Database({url!r}); print('go', flush=True)\n"
        "while True:\n"
        "    with db.raw_transaction() as cursor:\n"
        "        cursor.execute('INSERT INTO t VALUES (0)')\n"
        "        time.sleep(0.002)  # a delivery's statements\n"
    )
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    streams = [
        subprocess.Popen([sys.executable, "-c", stream], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        for process in streams:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "go"
        time.sleep(0.2)
        waits = []
        for _ in range(5):
            started = time.monotonic()
            with db.transaction() as writer:
                writer.execute(text("INSERT INTO t VALUES (1)"))
            waits.append(time.monotonic() - started)
        with db.read() as reader:
            streamed = reader.execute(text("SELECT count(*) FROM t WHERE x = 0")).scalar_one()
    finally:
        for process in streams:
            process.kill()
            process.communicate()
        db.dispose()
    assert streamed > 0
    assert max(waits) < 2, f"the session writer waited {max(waits):.1f} s for the write lock"

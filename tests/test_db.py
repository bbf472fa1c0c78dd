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

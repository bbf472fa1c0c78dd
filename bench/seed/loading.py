"""Bulk loading: the engine, the inserts for each dialect, the chunks of members one
transaction each, and what follows (the indexes rebuilt, the sequences moved, ANALYZE)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import Engine

from plugin.loyalty.program import ProgramSettings

from .config import LOADED_TABLES, PENDING_DAYS
from .indexes import drop_index
from .members import build_chunk
from .plan import ShopPlan
from .progress import ProgressBar
from .rows import CUSTOMER_COLUMNS, LEDGER_COLUMNS, ORDER_COLUMNS, Encoder, Row
from .state import STATE_TABLE, write_state


def bulk_engine(database_url: str) -> Engine:
    engine = create_engine(database_url)
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Loader:
    """Bulk inserts for one dialect, inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def load(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        if not rows:
            return
        if self.dialect == "postgresql":
            self._copy(table, columns, rows)
        else:
            placeholders = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(sql, rows)
            cursor.close()

    def _copy(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            batch: list[str] = []
            for row in rows:
                batch.append("\t".join(_copy_field(v) for v in row))
                if len(batch) >= 5_000:
                    copy.write("\n".join(batch) + "\n")
                    batch.clear()
            if batch:
                copy.write("\n".join(batch) + "\n")


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        # JSON may hold backslashes; COPY's text format escapes them (no tabs or newlines occur).
        return value.replace("\\", "\\\\") if "\\" in value else value
    return str(value)


def load_chunks(
    engine: Engine,
    plans: list[ShopPlan],
    shop_ids: dict[str, int],
    now: datetime,
    seed: int,
    progress: bool,
) -> None:
    program = ProgramSettings.from_dict({"pending_days": PENDING_DAYS})
    total = sum(p.entries for p in plans)
    with engine.connect() as connection:
        done = {
            k
            for (k,) in connection.execute(
                text(f"SELECT name FROM {STATE_TABLE} WHERE name LIKE 'chunk:%'")
            )
        }
    bar = ProgressBar(total, "entries") if progress else None
    for plan in plans:
        for chunk in range(plan.chunks()):
            start, stop = plan.chunk_range(chunk)
            key = f"chunk:{plan.number}:{chunk}"
            if key in done:
                if bar:
                    bar.advance(plan.entries_for(start, stop), "(already loaded)")
                continue
            with engine.begin() as connection:
                encode = Encoder(connection.dialect.name)
                rows = build_chunk(plan, chunk, shop_ids[plan.domain], program, now, encode, seed)
                loader = Loader(connection)
                if connection.dialect.name == "postgresql":
                    # Generated rows are consistent by construction: skip the per-row FK triggers.
                    connection.execute(text("SET LOCAL session_replication_role = replica"))
                    connection.execute(text("SET LOCAL synchronous_commit = off"))
                loader.load("customers", CUSTOMER_COLUMNS, rows.customers)
                loader.load("orders", ORDER_COLUMNS, rows.orders)
                loader.load("ledger_entries", LEDGER_COLUMNS, rows.entries)
                write_state(connection, key, str(len(rows.entries)))
            if bar:
                bar.advance(len(rows.entries), f"{plan.domain}")
    if bar:
        bar.close()


def finish(engine: Engine, indexes: Iterable[tuple[str, ...]], progress: bool) -> None:
    """Rebuild the dropped indexes, move the id sequences past the loaded ids, analyze."""
    with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SET maintenance_work_mem = '1GB'"))
            connection.execute(text("SET max_parallel_maintenance_workers = 1"))
        for name, definition in indexes:
            if progress:
                print(f"  index {name} …", file=sys.stderr, flush=True)
            drop_index(connection, name, definition)
            connection.execute(text(definition))
        if postgres:
            for table in LOADED_TABLES:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
    if progress:
        print("  analyze …", file=sys.stderr, flush=True)
    if engine.dialect.name == "postgresql":
        # VACUUM (for index-only scans' visibility map) cannot run inside a transaction.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {', '.join(LOADED_TABLES)}"))
    else:
        with engine.begin() as connection:  # committed: a plain connect() rolled it back
            connection.exec_driver_sql("ANALYZE")

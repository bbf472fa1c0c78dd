"""The build's progress, kept in the database it builds: an interrupted run resumes from it."""

from __future__ import annotations

from sqlalchemy import Connection, text

# One row per fact: the plan, its "now", the saved index definitions, each chunk loaded, the
# preferences derived and, last, "built".
STATE_TABLE = "bench_seed_state"


def read_state(connection: Connection) -> dict[str, str]:
    connection.execute(
        text(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name VARCHAR(64) PRIMARY KEY, value TEXT)")
    )
    return {
        str(name): str(value)
        for name, value in connection.execute(text(f"SELECT name, value FROM {STATE_TABLE}"))
    }


def write_state(connection: Connection, name: str, value: str) -> None:
    connection.execute(text(f"DELETE FROM {STATE_TABLE} WHERE name = :name"), {"name": name})
    connection.execute(
        text(f"INSERT INTO {STATE_TABLE} (name, value) VALUES (:name, :value)"),
        {"name": name, "value": value},
    )

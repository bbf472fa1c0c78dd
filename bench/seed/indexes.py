"""The big tables' secondary indexes: found, dropped while loading and rebuilt after."""

from __future__ import annotations

from sqlalchemy import Connection, text

from .config import BIG_TABLES


def secondary_indexes(connection: Connection) -> list[tuple[str, str]]:
    """(name, definition) of the big tables' indexes other than primary keys and, on SQLite,
    the unique constraints (which cannot be dropped there)."""
    tables = ", ".join(f"'{t}'" for t in BIG_TABLES)
    if connection.dialect.name == "sqlite":
        result = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                f"AND sql IS NOT NULL AND tbl_name IN ({tables})"
            )
        )
        return [(str(n), str(s)) for n, s in result]
    result = connection.execute(
        text(
            "SELECT i.indexname, i.indexdef, c.conname, c.contype, c.conrelid::regclass::text, "
            "pg_get_constraintdef(c.oid) FROM pg_indexes i "
            "LEFT JOIN pg_constraint c ON c.conname = i.indexname "
            "AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = i.schemaname) "
            f"WHERE i.schemaname = current_schema() AND i.tablename IN ({tables})"
        )
    )
    out = []
    for name, definition, constraint, kind, table, constraint_def in result:
        if kind == "p":
            continue
        if constraint is not None:
            # A unique constraint: drop and add it back as a constraint, as Alembic made it.
            out.append((str(name), f"ALTER TABLE {table} ADD CONSTRAINT {name} {constraint_def}"))
        else:
            out.append((str(name), str(definition)))
    return out


def drop_index(connection: Connection, name: str, definition: str) -> None:
    if definition.startswith("ALTER TABLE"):
        table = definition.split()[2]
        connection.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"))
    else:
        connection.execute(text(f"DROP INDEX IF EXISTS {name}"))

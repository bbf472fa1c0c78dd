"""The express lane's SQL (``express``), per database: PostgreSQL in three statements and two
round trips (a CTE inserts and locks; one reads the customer and its history after the lock, sent
with it; a CTE writes, sent with the COMMIT), SQLite in a few plain statements (in-process, so
each costs microseconds, not a round trip).

Values arrive bound as SQLAlchemy's column types bind them (``Values``), JSON as text.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.engine import Dialect

from .common import First, Values, Write
from .postgres import Postgres
from .sqlite import SQLite

__all__ = ["First", "Postgres", "SQLite", "Statements", "Values", "Write", "for_dialect"]


Statements = Postgres | SQLite


@cache
def for_dialect(dialect: Dialect) -> Statements:
    values = Values(dialect)
    if dialect.name == "postgresql":
        return Postgres(values)
    if dialect.name == "sqlite":
        return SQLite(values)
    raise NotImplementedError(dialect.name)

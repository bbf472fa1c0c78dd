"""The database itself: created if it does not exist yet, and migrated."""

from __future__ import annotations

from pathlib import Path

from alembic import command as alembic_command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plugin.cli import migration_connection


def migrate(database_url: str) -> None:
    # "heads": branches in flight each add a migration after the same parent until merged.
    with migration_connection(database_url) as (config, _):
        alembic_command.upgrade(config, "heads")


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database named in the URL if it does not exist yet."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() != "postgresql" or not url.database:
        return
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()

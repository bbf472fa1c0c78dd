"""The migrations build exactly the schema the models describe, and go down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from plugin.cli import alembic_config
from plugin.models import Base
from tests.conftest import migrate


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_migrations_downgrade_to_nothing_and_upgrade_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        alembic_command.downgrade(config, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()
    migrate(url)
    engine = create_engine(url)
    assert "ledger_entries" in inspect(engine).get_table_names()
    engine.dispose()

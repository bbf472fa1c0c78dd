"""The migrations build exactly the schema the models describe, and go down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, delete, inspect, select

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


def test_money_is_stored_exactly_and_never_as_a_float(database_url: str) -> None:
    from decimal import Decimal

    import pytest
    from sqlalchemy.orm import Session

    from plugin.models import Reward, Shop

    engine = create_engine(database_url)
    with Session(engine) as session, session.begin():
        shop = Shop(domain="money-test.myshopify.com", program={})
        session.add(shop)
        session.flush()
        session.add(
            Reward(
                shop_id=shop.id,
                title="x",
                points_cost=1,
                reward_type="fixed_amount",
                value=Decimal("9999999999999999.99"),
            )
        )
    with Session(engine) as session:
        value = session.scalars(select(Reward.value)).one()
        assert value == Decimal("9999999999999999.99")  # 18 significant digits: a float cannot
        assert isinstance(value, Decimal)
    with Session(engine) as session:
        session.add(Reward(shop_id=1, title="y", points_cost=1, reward_type="f", value=0.1))
        with pytest.raises(Exception, match="float"):
            session.flush()
    with Session(engine) as session, session.begin():
        session.execute(delete(Reward))
        session.execute(delete(Shop))
    engine.dispose()

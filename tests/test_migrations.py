"""The migrations build exactly the schema the models describe, and go down and up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, delete, inspect, select

from plugin.cli import alembic_config
from plugin.models import Base
from tests.conftest import migrate


# Neither SQLAlchemy (SQLite) nor Alembic compares expression indexes (the member search's
# lower(...) indexes): test_member_search_indexes_exist checks those itself.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping")
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_member_search_indexes_exist(database_url: str) -> None:
    """The prefix-search indexes the models declare, as the migration built them."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers'"
                " AND schemaname = current_schema()"
            ).all()
        else:
            rows = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'customers'"
            ).all()
    engine.dispose()
    definitions = {name: (sql or "").lower() for name, sql in rows}
    for index, columns in (
        ("ix_customers_shop_email_prefix", ("email",)),
        ("ix_customers_shop_last_name_prefix", ("last_name",)),
        ("ix_customers_shop_first_last_prefix", ("first_name", "last_name")),
    ):
        definition = definitions[index]
        for column in columns:
            # PostgreSQL spells it lower((email)::text).
            assert f"lower({column})" in definition or f"lower(({column})::text)" in definition
            if database_url.startswith("postgresql"):
                assert f"lower(({column})::text) text_pattern_ops" in definition
    # The first-and-last index serves a first name alone: the old one went (migration 0022).
    assert "ix_customers_shop_first_name_prefix" not in definitions


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


def test_upgrading_and_downgrading_through_the_app_keeps_existing_rows(
    tmp_path: Path, make_app: object
) -> None:
    """Through ``flask db``, on SQLite with rows in every table: batch migrations rebuild tables,
    and with the app's foreign keys on that would cascade deletes. Nothing may be lost."""
    from tests.conftest import test_env

    url = f"sqlite:///{tmp_path / 'existing.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        alembic_command.upgrade(config, "0003")
        # 0006 recounts against the real clock: one award well outside the window, one inside.
        real_now = datetime.now(UTC).replace(tzinfo=None)
        now = (real_now - timedelta(days=10)).isoformat(" ", timespec="microseconds")
        old = (real_now - timedelta(days=500)).isoformat(" ", timespec="microseconds")
        connection.exec_driver_sql(
            "INSERT INTO shops (id, domain, currency, scopes, program, created_at, installed_at) "
            f"VALUES (1, 'old.myshopify.com', 'USD', '', '{{}}', '{now}', '{now}')"
        )
        connection.exec_driver_sql(
            "INSERT INTO customers (id, shop_id, shopify_customer_id, is_member, points_balance,"
            " pending_points, tier_points, created_at, updated_at) "
            f"VALUES (1, 1, 42, 1, 700, 0, 700, '{now}', '{now}')"
        )
        connection.exec_driver_sql(
            "INSERT INTO rewards (id, shop_id, title, points_cost, reward_type, value, active, "
            f"created_at) VALUES (1, 1, '$5 off', 500, 'fixed_amount', 5.00, 1, '{now}')"
        )
        connection.exec_driver_sql(
            "INSERT INTO redemptions (id, shop_id, customer_id, reward_id, idempotency_key, "
            f"points_cost, status, details, created_at, updated_at) VALUES (1, 1, 1, 1, 'r', 500,"
            f" 'issued', '{{}}', '{now}', '{now}')"
        )
        for n, (points, at) in enumerate(((600, old), (100, now)), start=1):
            connection.exec_driver_sql(
                "INSERT INTO ledger_entries (id, shop_id, customer_id, kind, source, "
                "idempotency_key, points, pending_points, tier_points, tier_counted_at, details,"
                f" created_at) VALUES ({n}, 1, 1, 'order_award', 'order', 'k{n}', {points}, 0,"
                f" {points}, '{at}', '{{}}', '{at}')"
            )
    engine.dispose()

    app = make_app(env=test_env(url))  # type: ignore[operator]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0

    def rows() -> dict[str, object]:
        check = create_engine(url)
        with check.connect() as c:
            counts = {
                t: c.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
                for t in ("shops", "customers", "rewards", "redemptions", "ledger_entries")
            }
            counts["reward_of_redemption"] = c.exec_driver_sql(
                "SELECT reward_id FROM redemptions"
            ).scalar_one()
            counts["reward_value"] = c.exec_driver_sql("SELECT value FROM rewards").scalar_one()
            counts["tier_points"] = c.exec_driver_sql(
                "SELECT tier_points FROM customers"
            ).scalar_one()
        check.dispose()
        return counts

    after_upgrade = rows()
    assert Decimal(str(after_upgrade["reward_value"])) == Decimal("5.00")  # text now, exact
    assert after_upgrade == {
        "shops": 1,
        "customers": 1,
        "rewards": 1,
        "redemptions": 1,
        "ledger_entries": 2,
        "reward_of_redemption": 1,
        "reward_value": after_upgrade["reward_value"],
        "tier_points": 100,  # the old award is outside the 365-day window: 0006 recounted
    }
    assert runner.invoke(args=["db", "downgrade", "0003"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert rows()["redemptions"] == 1
    assert rows()["customers"] == 1
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0

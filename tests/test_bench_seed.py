"""The benchmark generator (``python -m bench.seed``) builds data the app itself would accept: on
the migrated schema, every member's projections equal the sums of their ledger entries, and a
second run recognises the finished database instead of loading it twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bench.seed import MAIN_SHOP, build
from plugin.ledger import verify_ledger
from plugin.models import Customer, LedgerEntry, Order, Shop

from .conftest import POSTGRES_URL, backend, postgres_schema_url


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    if backend() != "postgresql":
        yield f"sqlite:///{tmp_path / 'bench-seed.sqlite3'}"
        return
    schema = f"kanta_seed_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_seeded_projections_equal_the_ledger_and_a_rerun_loads_nothing(
    empty_database_url: str,
) -> None:
    report = build(empty_database_url, members=200, entries=2_000, other_shops=1, progress=False)
    assert report.built_now
    # The other shop gets 5 % as many: 10 members and 100 entries.
    assert (report.members, report.entries) == (210, 2_100)

    engine = create_engine(empty_database_url)
    with Session(engine) as session:
        shops = list(session.scalars(select(Shop).order_by(Shop.domain)))
        assert [s.domain for s in shops] == [MAIN_SHOP, "bench-2.myshopify.com"]
        assert all(s.is_installed for s in shops)
        assert verify_ledger(session, shops) == []

        main = shops[0]
        per_shop = dict(
            session.execute(
                select(LedgerEntry.shop_id, func.count()).group_by(LedgerEntry.shop_id)
            ).all()
        )
        assert per_shop == {main.id: 2_000, shops[1].id: 100}
        members = session.scalar(
            select(func.count()).where(Customer.shop_id == main.id, Customer.is_member)
        )
        assert members == 200
        # Realistic enough to matter: orders behind the awards, points pending and released,
        # more than one tier, skewed activity.
        kinds = set(session.scalars(select(LedgerEntry.kind).distinct()))
        assert {"welcome_bonus", "order_award", "pending_release"} <= kinds
        awards = session.scalar(select(func.count()).where(LedgerEntry.kind == "order_award"))
        assert session.scalar(select(func.count(Order.id))) == awards
        tiers = set(session.scalars(select(Customer.tier_key).distinct()))
        assert len(tiers) >= 2
        busiest = session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .group_by(LedgerEntry.customer_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        assert busiest is not None
        assert busiest > 40
    engine.dispose()

    again = build(empty_database_url, members=200, entries=2_000, other_shops=1, progress=False)
    assert not again.built_now


def test_a_seeded_database_refuses_another_size(empty_database_url: str) -> None:
    build(empty_database_url, members=20, entries=40, other_shops=0, progress=False)
    with pytest.raises(SystemExit, match="use another database"):
        build(empty_database_url, members=30, entries=40, other_shops=0, progress=False)

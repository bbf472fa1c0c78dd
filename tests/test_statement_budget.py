"""How many SQL statements a delivery costs, counted on the engine, so the hot path cannot
creep back up unnoticed. The budgets are today's counts; lower them as the path gets leaner
(the ledger rewrite of issue 13 is expected to), never raise them without a reason."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.conftest import backend, post_webhook
from tests.test_webhooks import paid_order

# Per delivery, on each database, counted on SQLAlchemy's engine and on the express lane's
# driver cursor (``ledger.express``: a paid order's first delivery). SQLite counts its
# BEGIN IMMEDIATE and COMMIT; on PostgreSQL they travel with the statements (``Pipeline``),
# uncounted, and the round trips are counted instead. The pool's pre-ping is not counted.
# A known customer's new paid order: on PostgreSQL one statement finds the shop and inserts the
# receipt, the order and the customer (locked), one reads the customer and its history after the
# lock (both in one round trip, pipeline mode), one writes everything else (sent with the
# COMMIT); on SQLite the same as plain statements (each in-process). A duplicate: on PostgreSQL
# the first two (one round trip), on SQLite the first statements only. The general path (an order
# already seen, refunds, …) is held by the money-path tests, not here.
BUDGET = {
    "sqlite": {"known customer, new order": 12, "duplicate": 4},
    "postgresql": {"known customer, new order": 3, "duplicate": 2},
}


class RecordedJobs:
    """Jobs asked for after commit, kept instead of run: they are not the delivery's statements
    (in production they run on a worker, after the answer)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self.names.append(name)

    def nudge(self, name: str) -> None:
        self.names.append(name)

    def shutdown(self) -> None:
        return None


class Counted(list[str]):
    """The statements, and on PostgreSQL the express lane's round trips (pipeline syncs)."""

    def __init__(self) -> None:
        super().__init__()
        self.round_trips: list[int] = []


@contextmanager
def counting(app: Flask) -> Iterator[Counted]:
    kanta = app.extensions["kanta"]
    engine = kanta.db.engine
    statements = Counted()
    round_trips = statements.round_trips
    jobs, kanta.jobs = kanta.jobs, RecordedJobs()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split())[:70])

    event.listen(engine, "before_cursor_execute", count)
    db = kanta.db
    original = db.raw_transaction

    @contextmanager
    def counted_raw_transaction() -> Iterator[Any]:
        # The express lane's statements go to the driver's cursor, not through SQLAlchemy.
        if db.is_sqlite:
            statements.append("BEGIN IMMEDIATE")
        with original() as cursor:
            yield CountingCursor(cursor, statements)
        if db.is_sqlite:
            statements.append("COMMIT")
        else:
            round_trips.append(cursor.syncs)

    db.raw_transaction = counted_raw_transaction  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
        del db.raw_transaction
        kanta.jobs = jobs


class CountingCursor:
    """A driver cursor that notes each statement it is given (``executemany`` once)."""

    def __init__(self, cursor: Any, statements: list[str]) -> None:
        self._cursor, self._statements = cursor, statements

    def execute(self, sql: str, *args: Any) -> Any:
        self._statements.append(" ".join(sql.split())[:70])
        result = self._cursor.execute(sql, *args)
        return self if result is self._cursor else result

    def executemany(self, sql: str, *args: Any) -> Any:
        self._statements.append(" ".join(sql.split())[:70])
        return self._cursor.executemany(sql, *args)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()


@pytest.fixture
def warm(app: Flask, client: FlaskClient, shop: int) -> FlaskClient:
    """The customer is known (an earlier order) and every statement has been compiled once."""
    assert (
        post_webhook(client, "orders/paid", paid_order(7_100_000_000_000_000_900)).status_code
        == 200
    )
    return client


def test_statements_per_paid_order_of_a_known_customer(app: Flask, warm: FlaskClient) -> None:
    with counting(app) as statements:
        response = post_webhook(warm, "orders/paid", paid_order(7_100_000_000_000_000_901))
    assert response.get_json() == {"status": "ok"}
    assert len(statements) <= BUDGET[backend()]["known customer, new order"], statements
    if backend() == "postgresql":  # the first two statements in one, the write with the COMMIT
        assert statements.round_trips == [2]


def test_statements_per_duplicate_delivery(app: Flask, warm: FlaskClient) -> None:
    order = paid_order(7_100_000_000_000_000_902)
    assert post_webhook(warm, "orders/paid", order, webhook_id="dup").status_code == 200
    with counting(app) as statements:
        response = post_webhook(warm, "orders/paid", order, webhook_id="dup")
    assert response.get_json() == {"status": "duplicate delivery"}
    assert len(statements) <= BUDGET[backend()]["duplicate"], statements
    if backend() == "postgresql":  # the first two statements, then the COMMIT
        assert statements.round_trips == [2]

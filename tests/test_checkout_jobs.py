"""What runs after commit for checkout: the intake hands handlers' job requests over once the
delivery has committed; the learned preferences; the reconcile sweep of redemptions left
behind; and the query budget of the widget's hot read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, select

from devstore.signing import mint_customer_account_session_token
from plugin import ledger
from plugin.jobs import JOBS
from plugin.loyalty.orders import CustomerFacts
from plugin.loyalty.rewards import RewardOffer
from plugin.models import Customer, CustomerPreference, Redemption, Shop
from tests.checkout_kit import CheckoutStack
from tests.conftest import API_KEY, API_SECRET, SHOP, Clock
from tests.story import Shopper, line

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


class RecordingJobs:
    def __init__(self) -> None:
        self.enqueued: list[tuple[str, dict[str, Any]]] = []

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self.enqueued.append((name, kwargs))

    def nudge(self, name: str) -> None:
        self.enqueued.append((name, {"nudge": True}))

    def shutdown(self) -> None:
        return None


def preferences_of(app: Flask) -> list[tuple[str, str, str, str | None]]:
    with app.extensions["kanta"].db.read() as session:
        return [
            (p.kind, p.source, p.value, p.handle)
            for p in session.scalars(select(CustomerPreference).order_by(CustomerPreference.kind))
        ]


def test_a_paid_order_marks_its_customer_and_nudges_after_commit_a_redelivery_nothing(
    app: Flask, client: Any, shop: int
) -> None:
    jobs = RecordingJobs()
    app.extensions["kanta"].jobs = jobs
    ada = Shopper(app, client)
    order = ada.order(line("Tea", "20.00"), payment_gateway="paypal", shipping_title="Express")
    webhook_id = str(uuid.uuid4())

    ada.pays(order, webhook_id=webhook_id)
    ada.pays(order, webhook_id=webhook_id)  # the same delivery again
    ada.send("orders/create", ada.order(line("Tea", "1.00")))  # no business event: no job

    # The request sent no message with arguments: the customer is marked in the delivery's own
    # transaction (the outbox) and the drain is nudged once.
    assert jobs.enqueued == [("sync_requested_customers", {"nudge": True})]
    with app.extensions["kanta"].db.read() as session:
        [(shop_id, marked)] = session.execute(
            select(Customer.shop_id, Customer.sync_requested_at).where(
                Customer.sync_requested_at.is_not(None)
            )
        ).all()
    assert shop_id == shop
    assert marked is not None
    assert marked.tzinfo is not None

    assert JOBS["sync_requested_customers"](app.extensions["kanta"]) == 1
    assert preferences_of(app)[1][:3] == ("payment", "learned", "PayPal")
    assert JOBS["sync_requested_customers"](app.extensions["kanta"]) == 0  # drained


def test_learning_runs_from_stored_orders_even_when_shopify_is_away(
    app: Flask, client: Any, shop: int
) -> None:
    ada = Shopper(app, client)
    for gateway, title in (("paypal", "Express"), ("shop_cash", "Standard"), ("paypal", "Express")):
        ada.pays(
            ada.order(
                line("Tea", "20.00"),
                payment_gateway=gateway,
                shipping_title=title,
                shipping_code=title.upper(),
            )
        )
    # This app has no Shopify (the sync logs one line); the learned rows are there.
    assert preferences_of(app) == [
        ("delivery", "learned", "Express", "EXPRESS"),
        ("payment", "learned", "PayPal", "paypal"),
    ]


def test_a_reservation_left_by_a_crash_is_settled_by_the_daily_sweep(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    stack = CheckoutStack(make_app, clock)
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 400)
    k = stack.kanta
    with k.db.transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        customer = ledger.lock_customer(
            session, shop, CustomerFacts(ada, None, None, None), k.now()
        )
        assert customer is not None
        reward = RewardOffer(
            stack.reward_id("fixed_amount"), "5.00 off", "fixed_amount", 500, Decimal("5.00")
        )
        # The process died right after reserving: no Shopify call, nothing recorded after.
        ledger.reserve_points(
            session, shop, customer, reward, "crashed-1", code="KANTA-LOST", now=k.now()
        )
    assert stack.customer_row(ada).points_balance == 0  # type: ignore[union-attr]

    assert JOBS["reconcile_redemptions"](k) == 0  # too recent: its request may still be running
    clock.advance(minutes=11)
    totals = JOBS["daily"](k)

    assert totals["redemptions_reconciled"] == 1
    [redemption] = stack.redemptions()
    assert redemption.status == "refunded"
    assert stack.customer_row(ada).points_balance == 500  # type: ignore[union-attr]
    assert stack.calls("discountCodeBasicCreate") == []  # settled by lookup, never issued


def test_the_widget_read_is_a_few_indexed_statements_then_cached(
    make_app: Callable[..., Flask], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = CheckoutStack(make_app, clock)
    ada = stack.shopper_id()
    stack.join(ada)
    stack.kanta.extras["checkout_reader"].customers.clear()
    stack.kanta.extras["checkout_reader"].shops.clear()
    statements: list[str] = []

    def record(sql: str) -> None:
        if sql.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append(sql)

    postgresql = stack.kanta.db.engine.dialect.name == "postgresql"
    if postgresql:
        # The customer's read runs on psycopg's own cursor (Database.run_cursor_read), where
        # SQLAlchemy's events do not see it: count every statement at the driver.
        real_execute = psycopg.Cursor.execute

        def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            record(str(query))
            return real_execute(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    else:
        # Likewise on SQLite (sqlite3's cursor cannot be patched): its own trace, set on each
        # connection as the pool hands it out.
        event.listen(
            stack.kanta.db.read_engine,
            "checkout",
            lambda dbapi, *_args: dbapi.set_trace_callback(record),
        )  # the app, its engine and this listener end with the test
    first = stack.loyalty(ada, subtotal="10.00")
    cold = list(statements)
    second = stack.loyalty(ada, subtotal="20.00")

    # Shop, its rewards, then the customer with their choices and last entries: one statement
    # (subqueries as JSON).
    assert len(cold) == 3, cold
    assert len(statements) == 3  # the second read within seconds: no statement at all
    assert (first["points_for_cart"], second["points_for_cart"]) == (10, 20)


def test_a_customer_account_token_reads_the_same_loyalty(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    stack = CheckoutStack(make_app, clock)
    ada = stack.shopper_id()
    stack.join(ada)
    token = mint_customer_account_session_token(SHOP, API_KEY, API_SECRET, customer_id=ada)

    body = stack.call("GET", "loyalty", None, token=token).get_json()

    assert body["member"] is True
    assert body["points"] == 100
    assert body["recent"][0]["points"] == 100


def test_redemption_rows_snapshot_the_reward(make_app: Callable[..., Flask], clock: Clock) -> None:
    stack = CheckoutStack(make_app, clock)
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 400)
    assert stack.redeem(ada, stack.reward_id("store_credit")).status_code == 200
    with stack.kanta.db.transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        shop.currency = "EUR"  # a later change of the shop or reward changes nothing here

    [redemption] = stack.redemptions()
    assert isinstance(redemption, Redemption)
    assert (redemption.reward_type, str(redemption.amount), redemption.currency) == (
        "store_credit",
        "5.00",
        "USD",
    )


def test_installing_turns_both_checkout_functions_on_once(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    stack = CheckoutStack(make_app, clock)  # installed through the app's first load
    with stack.kanta.db.read() as session:
        shop_id = session.scalars(select(Shop.id).where(Shop.domain == SHOP)).one()

    again = JOBS["activate_checkout_functions"](stack.kanta, shop_id=shop_id)

    assert again == []  # both exist: nothing created twice
    [payment] = stack.store.customizations(SHOP, "payment")
    [delivery] = stack.store.customizations(SHOP, "delivery")
    assert (payment["function_handle"], payment["enabled"]) == ("kanta-preferred-payment", True)
    assert (delivery["function_handle"], delivery["enabled"]) == ("kanta-preferred-delivery", True)


def test_the_drain_keeps_a_mark_set_while_it_ran_and_puts_a_failure_off(
    app: Flask, client: Any, shop: int, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plugin.jobs import preferences

    kanta = app.extensions["kanta"]
    jobs = RecordingJobs()
    kanta.jobs = jobs  # nothing drains on its own: the test runs the drain
    ada, bob = Shopper(app, client), Shopper(app, client)
    ada.pays(ada.order(line("Tea", "20.00"), payment_gateway="paypal"))
    bob.pays(bob.order(line("Tea", "20.00"), payment_gateway="paypal"))
    real = preferences.learn_and_sync_preferences
    calls: list[int] = []

    def learn(k: Any, shop_id: int, customer_pk: int) -> bool:
        calls.append(customer_pk)
        if len(calls) == 1:  # the first customer's learning fails
            raise RuntimeError("boom")
        # meanwhile, another order of this customer commits and marks them again
        with k.db.transaction() as session:
            session.get(Customer, customer_pk).sync_requested_at = k.now() + timedelta(seconds=1)
        return real(k, shop_id, customer_pk)

    monkeypatch.setattr(preferences, "learn_and_sync_preferences", learn)
    assert preferences.sync_requested_customers(kanta) == 1
    assert len(calls) == 2
    with kanta.db.read() as session:
        marked = set(
            session.scalars(select(Customer.id).where(Customer.sync_requested_at.is_not(None)))
        )
    assert marked == set(calls)  # the failed one stays, and so does the one marked again

    monkeypatch.setattr(preferences, "learn_and_sync_preferences", real)
    clock.advance(seconds=2)
    assert preferences.sync_requested_customers(kanta) == 1  # the one marked again
    assert preferences.sync_requested_customers(kanta) == 0  # the failed one waits its turn
    clock.advance(minutes=5)
    assert preferences.sync_requested_customers(kanta) == 1
    with kanta.db.read() as session:
        assert (
            session.scalar(select(Customer.id).where(Customer.sync_requested_at.is_not(None)))
            is None
        )

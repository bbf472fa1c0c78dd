"""Real parallel workers on PostgreSQL: gunicorn with four worker processes, deliveries fired at
it from sixteen threads at once. Two deliveries for the same customer processed at the same
moment must both count, once each; duplicates racing each other must count once."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text

from devstore.payloads import ID_BASE, LineSpec, build_customer, build_order, build_refund
from plugin.models import Customer, LedgerEntry, WebhookReceipt
from tests import harness
from tests.conftest import SHOP, install_shop, test_env
from tests.harness import signed

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def gunicorn(postgres_url: str, make_app: object) -> Iterator[str]:
    with harness.gunicorn(test_env(postgres_url), workers=4, args=["--timeout=60"]) as server:
        yield server.base


def test_parallel_deliveries_for_one_customer_all_count_once(
    gunicorn: str, make_app: object, postgres_url: str
) -> None:
    app: Flask = make_app(env=test_env(postgres_url))  # type: ignore[operator]
    install_shop(app)
    customer = build_customer(ID_BASE + 77, email="busy@example.com", first_name="B", last_name="Y")
    deliveries: list[tuple[str, bytes, dict[str, str]]] = []
    for n in range(40):
        order = build_order(
            order_id=ID_BASE + 1_000_000 + n,
            shop_domain=SHOP,
            customer=customer,
            lines=[LineSpec(title="Mug", price=Decimal("10.00"))],
        )
        webhook_id = str(uuid.uuid4())
        body, headers = signed("orders/paid", order, webhook_id)
        # The same delivery twice (a retry racing the original) ...
        deliveries += [("paid", body, headers), ("paid", body, dict(headers))]
        # ... and once more from a second subscription (new webhook id, same event).
        body2, headers2 = signed("orders/paid", order, str(uuid.uuid4()))
        deliveries.append(("paid", body2, headers2))
        if n % 4 == 0:  # ten orders are refunded in full, possibly before they are paid
            refund = build_refund(
                refund_id=ID_BASE + 2_000_000 + n,
                order=order,
                lines=[(order["line_items"][0]["id"], 1)],
            )
            body3, headers3 = signed("refunds/create", refund, str(uuid.uuid4()))
            deliveries.append(("refund", body3, headers3))

    random.Random(7).shuffle(deliveries)
    with httpx.Client(timeout=30) as http, ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(
            pool.map(
                lambda d: http.post(f"{gunicorn}/webhooks", content=d[1], headers=d[2]).status_code,
                deliveries,
            )
        )
    assert set(statuses) == {200}

    k = app.extensions["kanta"]
    with k.db.read() as session:
        balance = session.scalar(select(Customer.points_balance))
        kinds = dict(
            session.execute(select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)).all()
        )
        receipts = session.scalar(select(func.count()).select_from(WebhookReceipt))
    assert kinds == {"order_award": 40, "refund_reversal": 10}
    assert balance == 300  # 30 orders kept × 10 points
    assert receipts == len({d[2]["X-Shopify-Webhook-Id"] for d in deliveries})
    verify = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output


def test_the_daily_tier_refresh_never_loses_an_award_committed_meanwhile(
    make_app: object, postgres_url: str, clock: object
) -> None:
    """The refresh locks each customer and recounts after the lock, like every other writer:
    an award in flight when the daily job reaches the customer is counted, not overwritten."""
    import threading

    from plugin import ledger as ledger_service
    from plugin.jobs import run_daily
    from plugin.loyalty.orders import parse_order
    from plugin.models import Shop

    app: Flask = make_app(env=test_env(postgres_url))  # type: ignore[operator]
    install_shop(app)
    k = app.extensions["kanta"]
    customer = build_customer(ID_BASE + 88, email="tier@example.com", first_name="T", last_name="R")

    def order(n: int, price: str) -> dict[str, object]:
        return build_order(
            order_id=ID_BASE + 3_000_000 + n,
            shop_domain=SHOP,
            customer=customer,
            lines=[LineSpec(title="Sofa", price=Decimal(price))],
        )

    def pay(session: object, payload: dict[str, object]) -> None:
        shop = session.scalars(select(Shop)).one()  # type: ignore[attr-defined]
        ledger_service.record_order(session, shop, parse_order(payload), "paid", k.now())  # type: ignore[arg-type]

    with k.db.transaction() as session:
        pay(session, order(1, "600.00"))  # Silver, a year ago
    clock.advance(days=366)  # type: ignore[attr-defined]

    award_locked, release = threading.Event(), threading.Event()

    def award_in_flight() -> None:
        with k.db.transaction() as session:
            pay(session, order(2, "200.00"))
            award_locked.set()
            release.wait(10)

    awarding = threading.Thread(target=award_in_flight)
    awarding.start()
    assert award_locked.wait(10)
    refreshing = threading.Thread(target=run_daily, args=(k,))
    refreshing.start()
    time.sleep(0.5)  # the refresh is now waiting for the customer's row
    release.set()
    awarding.join(10)
    refreshing.join(10)

    with k.db.read() as session:
        row = session.scalars(select(Customer)).one()
        # Paid while still Silver (×1.25: ageing is the daily job's), and counted after it.
        assert (row.tier_points, row.tier_key) == (250, "bronze")
        assert ledger_service.verify_ledger(session, list(session.scalars(select(Shop)))) == []


def test_the_daily_release_and_a_refund_of_the_same_customer_never_deadlock(
    make_app: object, postgres_url: str, clock: object
) -> None:
    """Locks are always taken orders first, then customers. A refund that holds order O2 and is
    about to lock the customer, while the daily job releases O1 and O2 of that customer, waits
    for the other instead of deadlocking (PostgreSQL would abort one of them)."""
    import threading

    from plugin import ledger as ledger_service
    from plugin.jobs import run_daily
    from plugin.loyalty.orders import parse_order
    from plugin.models import Order, Shop

    app: Flask = make_app(env=test_env(postgres_url))  # type: ignore[operator]
    install_shop(app, program={"pending_days": 7})
    k = app.extensions["kanta"]
    customer = build_customer(ID_BASE + 99, email="lock@example.com", first_name="L", last_name="K")
    payloads = [
        build_order(
            order_id=ID_BASE + 4_000_000 + n,
            shop_domain=SHOP,
            customer=customer,
            lines=[LineSpec(title="Chair", price=Decimal("50.00"))],
        )
        for n in (1, 2)
    ]
    with k.db.transaction() as session:
        shop = session.scalars(select(Shop)).one()
        for payload in payloads:
            ledger_service.record_order(session, shop, parse_order(payload), "paid", k.now())
    clock.advance(days=8)  # type: ignore[attr-defined]

    holding_o2, job_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def refund_like_webhook() -> None:
        # What settling a refund of O2 does: lock O2, then (a moment later) the customer.
        try:
            with k.db.transaction() as session:
                session.execute(
                    select(Order.id)
                    .where(Order.shopify_order_id == payloads[1]["id"])
                    .with_for_update()
                )
                holding_o2.set()
                job_started.wait(10)
                time.sleep(0.5)  # the job is now waiting for a lock
                session.execute(select(Customer.id).with_for_update())
        except BaseException as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    def daily() -> None:
        try:
            job_started.set()
            result = run_daily(k)
            assert result["shops_failed"] == 0, result
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    webhook = threading.Thread(target=refund_like_webhook)
    webhook.start()
    assert holding_o2.wait(10)
    job = threading.Thread(target=daily)
    job.start()
    webhook.join(20)
    job.join(20)

    assert errors == []
    with k.db.read() as session:
        row = session.scalars(select(Customer)).one()
        assert (row.points_balance, row.pending_points) == (100, 0)


def until_waiting(k: Any, count: int) -> None:
    """Until ``count`` transactions of this database wait for a lock (10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        with k.db.read() as session:
            waiting = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if int(waiting or 0) >= count:
            return
        assert time.monotonic() < deadline, f"fewer than {count} transactions wait for a lock"
        time.sleep(0.05)


@pytest.mark.parametrize("topic", ["orders/paid", "refunds/create"])
def test_shop_redact_waits_for_a_delivery_in_flight_and_deletes_its_rows(
    make_app: object, postgres_url: str, topic: str
) -> None:
    """The tables a paid order writes have no foreign key to the shop (plugin/models/types.py,
    ShopKey): the shop's row is held instead. A delivery in flight (``orders/paid`` takes the
    express lane, ``refunds/create`` the general path) is paused after it read the shop: its
    receipt waits for an uncommitted receipt of the same webhook id. shop/redact, sent meanwhile,
    must wait for it, then delete what it wrote: no row outlives its shop."""
    import threading

    from devstore.payloads import build_app_uninstalled, build_shop_redact
    from plugin.models import Order, OrderEvent, OrderLine, Shop
    from tests.conftest import post_webhook

    app: Flask = make_app(env=test_env(postgres_url))  # type: ignore[operator]
    shop_id = install_shop(app)
    k = app.extensions["kanta"]
    assert post_webhook(app.test_client(), "app/uninstalled", build_app_uninstalled(1, SHOP))
    customer = build_customer(ID_BASE + 55, email="late@example.com", first_name="L", last_name="T")
    order = build_order(
        order_id=ID_BASE + 5_000_000,
        shop_domain=SHOP,
        customer=customer,
        lines=[LineSpec(title="Lamp", price=Decimal("30.00"))],
    )
    payload = order
    if topic == "refunds/create":
        payload = build_refund(
            refund_id=ID_BASE + 5_100_000, order=order, lines=[(order["line_items"][0]["id"], 1)]
        )
    webhook_id = str(uuid.uuid4())
    answers: dict[str, int] = {}

    def deliver(name: str, topic: str, body: object, webhook_id: str) -> None:
        answers[name] = post_webhook(
            app.test_client(), topic, body, webhook_id=webhook_id
        ).status_code

    with k.db.transaction() as blocker:
        blocker.add(
            WebhookReceipt(shop_id=shop_id, webhook_id=webhook_id, topic=topic, received_at=k.now())
        )
        blocker.flush()
        delivery = threading.Thread(target=deliver, args=("delivery", topic, payload, webhook_id))
        delivery.start()
        until_waiting(k, 1)  # the delivery has read (and holds) the shop; its receipt waits
        redact = threading.Thread(
            target=deliver,
            args=("redact", "shop/redact", build_shop_redact(1, SHOP), str(uuid.uuid4())),
        )
        redact.start()
        until_waiting(k, 2)  # shop/redact waits too: for the delivery's hold on the shop
        blocker.rollback()  # the delivery goes on and commits; then shop/redact runs
    delivery.join(20)
    redact.join(20)

    assert answers == {"delivery": 200, "redact": 200}
    with k.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Shop)) == 0
        for model in (Customer, Order, OrderEvent, OrderLine, LedgerEntry, WebhookReceipt):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model


def test_a_writer_holding_a_deleted_shop_stops(make_app: object, postgres_url: str) -> None:
    """``ledger.hold_shop``, for the writers that create customers outside the intake (the
    checkout's join and choices, a balance import): a shop deleted meanwhile is a LedgerError,
    not a customer row without its shop (the caller's transaction rolls back)."""
    from plugin import ledger as ledger_service
    from plugin.models import Shop

    app: Flask = make_app(env=test_env(postgres_url))  # type: ignore[operator]
    install_shop(app)
    k = app.extensions["kanta"]
    with k.db.transaction() as session:
        shop = session.scalars(select(Shop)).one()
        session.expunge(shop)
    with k.db.transaction() as session:
        session.execute(delete(Shop))
    with k.db.transaction() as session:
        with pytest.raises(ledger_service.LedgerError):
            ledger_service.hold_shop(session, shop)


def test_the_outbox_drain_holds_the_shop_before_any_row_of_the_customer(
    make_app: object, postgres_url: str
) -> None:
    """shop/redact locks the shop, then deletes its customers. The drain (learning a customer's
    choices, then recording the metafield it wrote) writes rows with foreign keys to both: it
    must hold the shop first, like every writer. Taken the other way round (the customer's row by
    a foreign key check, then the shop's), a drain running as shop/redact arrived deadlocked
    with it. While shop/redact holds the shop, a drain waits without holding the customer."""
    import threading

    from plugin.jobs.preferences import learn_and_sync_preferences
    from plugin.models import CustomerPreference, Shop
    from tests.conftest import post_webhook

    app: Flask = make_app(env=test_env(postgres_url))  # type: ignore[operator]
    shop_id = install_shop(app)
    k = app.extensions["kanta"]
    customer = build_customer(
        ID_BASE + 56, email="drain@example.com", first_name="D", last_name="R"
    )
    order = build_order(
        order_id=ID_BASE + 5_200_000,
        shop_domain=SHOP,
        customer=customer,
        lines=[LineSpec(title="Lamp", price=Decimal("30.00"))],
    )
    assert post_webhook(app.test_client(), "orders/paid", order).status_code == 200
    with k.db.transaction() as session:
        customer_pk = session.scalar(select(Customer.id).where(Customer.shop_id == shop_id))
        session.execute(delete(CustomerPreference))  # so the drain inserts its rows afresh
    assert customer_pk is not None

    with k.db.transaction() as redact:
        redact.execute(select(Shop.id).where(Shop.id == shop_id).with_for_update())
        drain = threading.Thread(target=learn_and_sync_preferences, args=(k, shop_id, customer_pk))
        drain.start()
        until_waiting(k, 1)  # the drain waits for the shop
        # shop/redact could delete the customer now: the waiting drain holds nothing of theirs.
        locked = redact.execute(
            select(Customer.id).where(Customer.id == customer_pk).with_for_update(nowait=True)
        ).scalar_one()
        assert locked == customer_pk
        redact.rollback()
    drain.join(20)
    assert not drain.is_alive()


@pytest.mark.parametrize("writer", ["redemption", "adjustment", "daily release", "join"])
def test_writers_outside_the_intake_hold_the_shop_before_its_rows(
    make_app: object, postgres_url: str, clock: object, writer: str
) -> None:
    """shop/redact locks the shop, then deletes its rows table by table. Every writer must hold
    the shop first: a redemption took the customer's row, then waited for the shop's (the
    redemption row's foreign key) — a deadlock with shop/redact; an adjustment never held the
    shop at all, so its entry could commit after shop/redact had deleted the ledger; the daily
    release locked the orders first; a shopper joining lifted their erasure's suppression row
    before holding the shop. While shop/redact holds the shop, each waits holding nothing of
    the shop's rows (NOWAIT), then goes on once the shop is free."""
    import threading

    from plugin import ledger as ledger_service
    from plugin.jobs import run_daily
    from plugin.loyalty.orders import CustomerFacts
    from plugin.loyalty.rewards import RewardOffer
    from plugin.models import Order, RedactedCustomer, Reward, Shop
    from tests.conftest import post_webhook

    app: Flask = make_app(env=test_env(postgres_url))  # type: ignore[operator]
    shop_id = install_shop(app, program={"pending_days": 7 if writer == "daily release" else 0})
    k = app.extensions["kanta"]
    customer = build_customer(ID_BASE + 57, email="hold@example.com", first_name="H", last_name="S")
    order = build_order(
        order_id=ID_BASE + 5_300_000,
        shop_domain=SHOP,
        customer=customer,
        lines=[LineSpec(title="Desk", price=Decimal("300.00"))],
    )
    assert post_webhook(app.test_client(), "orders/paid", order).status_code == 200
    with k.db.transaction() as session:
        customer_row = session.scalars(select(Customer)).one()
        customer_pk = customer_row.id
        earned = customer_row.points_balance + customer_row.pending_points
        reward = Reward(
            shop_id=shop_id,
            title="$5 off",
            points_cost=100,
            reward_type="fixed_amount",
            value=Decimal("5.00"),
        )
        session.add(reward)
        session.flush()
        offer = RewardOffer(reward.id, reward.title, "fixed_amount", 100, Decimal("5.00"))
        # A shopper erased earlier, joining again now.
        joiner = CustomerFacts(ID_BASE + 58, "join@example.com", "J", "O")
        key = ledger_service.suppression_key(shop_id, joiner.shopify_id)
        session.add(RedactedCustomer(shop_id=shop_id, customer_key=key))
    assert earned >= 100
    clock.advance(days=8)  # type: ignore[attr-defined]
    errors: list[BaseException] = []

    def write() -> None:
        try:
            if writer == "daily release":
                assert run_daily(k)["shops_failed"] == 0
                return
            with k.db.transaction() as session:
                shop = session.get(Shop, shop_id)
                assert shop is not None
                if writer == "join":
                    ledger_service.join_program(session, shop, joiner, True, k.now())
                elif writer == "redemption":
                    row = session.get(Customer, customer_pk)
                    assert row is not None
                    ledger_service.reserve_points(
                        session, shop, row, offer, "key-1", code="KANTA-1", now=k.now()
                    )
                else:
                    ledger_service.adjust_points(
                        session, shop, customer_pk, 25, "goodwill", "staff", "key-1", k.now()
                    )
        except BaseException as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    with k.db.transaction() as redact:
        redact.execute(select(Shop.id).where(Shop.id == shop_id).with_for_update())
        thread = threading.Thread(target=write)
        thread.start()
        until_waiting(k, 1)  # the writer waits for the shop
        # shop/redact could delete them now: the waiting writer holds none of them.
        assert (
            redact.execute(
                select(Customer.id).where(Customer.id == customer_pk).with_for_update(nowait=True)
            ).scalar_one()
            == customer_pk
        )
        assert len(redact.execute(select(Order.id).with_for_update(nowait=True)).all()) == 1
        suppressed = select(RedactedCustomer.id).with_for_update(nowait=True)
        assert len(redact.execute(suppressed).all()) == 1
        redact.rollback()
    thread.join(20)
    assert not thread.is_alive()
    assert errors == []
    with k.db.read() as session:
        if writer == "join":
            joined = session.scalars(
                select(Customer).where(Customer.shopify_customer_id == joiner.shopify_id)
            ).one()
            assert joined.is_member
            assert session.scalar(select(func.count()).select_from(RedactedCustomer)) == 0
            return
        balance = session.scalar(select(Customer.points_balance).where(Customer.id == customer_pk))
        kinds = set(session.scalars(select(LedgerEntry.kind)))
    kind, points = {
        "redemption": ("redemption", earned - 100),
        "adjustment": ("adjustment", earned + 25),
    }.get(writer, ("pending_release", earned))
    assert kind in kinds
    assert balance == points

"""The express lane (``plugin.ledger.express``) writes exactly what the general path writes.

Two shops with the same program receive the same signed deliveries at the same moments, through
the real intake: one shop's paid orders may take the express lane, the other's are forced down
the general path (``ledger.record_order``). Afterwards every row of both shops — customers,
orders, order events, ledger entries, order lines, receipts — must be equal column by column
(ids aside). Hypothesis draws the programs (earn rate, pending period, welcome bonus,
auto-enrolment, shipping and tax), the customers (new, returning, several orders, guests), the
orders (gift cards, discounts, tax, shipping, POS, test orders), late deliveries (an order
processed before ones already awarded: the express lane steps aside), orders/create first,
redeliveries and refunds.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import webhooks.intake
from devstore.payloads import ID_BASE, LineSpec, build_customer, build_order, build_refund
from plugin.ledger import express
from plugin.ledger.express import NotExpress
from plugin.models import (
    Customer,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderLine,
    Shop,
    WebhookReceipt,
)
from tests.conftest import START, Clock, install_shop, post_webhook

_ids = itertools.count(1)


class Lanes:
    """Sends the general shop's deliveries down the general path; counts express awards."""

    def __init__(self) -> None:
        self.general: set[str] = set()
        self.express = 0

    def __call__(self, cursor: Any, dialect: Any, domain: str, *args: Any) -> Any:
        if domain in self.general:
            raise NotExpress("forced by the test")
        done = express.record_new_paid_order(cursor, dialect, domain, *args)
        self.express += done.outcome == "ok"
        return done


@pytest.fixture
def lanes(monkeypatch: pytest.MonkeyPatch) -> Lanes:
    lanes = Lanes()
    monkeypatch.setattr(webhooks.intake, "record_new_paid_order", lanes)
    return lanes


programs = st.fixed_dictionaries(
    {
        "earn_rate": st.sampled_from(["1", "1.5", "10"]),
        "pending_days": st.sampled_from([0, 14]),
        "welcome_bonus": st.sampled_from([0, 50]),
        "auto_enroll": st.sampled_from([True, True, False]),
        "include_shipping": st.booleans(),
        "include_tax": st.booleans(),
    }
)
lines = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=90_000),  # cents
        st.integers(min_value=1, max_value=3),
        st.sampled_from([False, False, False, True]),  # gift card
        st.sampled_from([0, 0, 150]),  # line discount, cents
    ),
    min_size=1,
    max_size=3,
)
deliveries = st.lists(
    st.fixed_dictionaries(
        {
            "customer": st.sampled_from([0, 0, 1, 2, None]),  # None: a guest
            "hour": st.integers(min_value=0, max_value=6),  # processed_at: late ones too
            "lines": lines,
            "shipping": st.sampled_from(["0", "4.90"]),
            "tax_rate": st.sampled_from(["0", "0.2"]),
            "taxes_included": st.booleans(),
            "source_name": st.sampled_from(["web", "web", "pos"]),
            "test": st.sampled_from([False, False, False, False, True]),
            "story": st.sampled_from(
                ["paid", "paid", "paid", "create, paid", "paid twice", "paid, refund"]
            ),
        }
    ),
    min_size=1,
    max_size=6,
)


def _order(shop_domain: str, order_id: int, customers: list[dict[str, Any]], d: dict[str, Any]):
    return build_order(
        order_id=order_id,
        shop_domain=shop_domain,
        customer=None if d["customer"] is None else customers[d["customer"]],
        lines=[
            LineSpec(
                f"Thing {i}",
                Decimal(cents) / 100,
                quantity,
                gift_card=gift,
                discount=Decimal(discount) / 100,
            )
            for i, (cents, quantity, gift, discount) in enumerate(d["lines"])
        ],
        shipping=Decimal(d["shipping"]),
        tax_rate=Decimal(d["tax_rate"]),
        taxes_included=d["taxes_included"],
        source_name=d["source_name"],
        test=d["test"],
        created_at=START + timedelta(hours=d["hour"]),
    )


def _send(client: FlaskClient, shops: list[str], clock: Clock, topic: str, make: Any) -> None:
    """The same delivery to every shop at the same moment (one webhook id per shop)."""
    webhook_id = f"w-{next(_ids)}"
    for domain in shops:
        response = post_webhook(
            client, topic, make(domain), shop=domain, webhook_id=f"{webhook_id}-{domain}"
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    clock.advance(seconds=7)


def _play(client: FlaskClient, shops: list[str], clock: Clock, plan: list[dict[str, Any]]) -> None:
    run = next(_ids)
    customers = [
        build_customer(
            ID_BASE + run * 1000 + i, email=f"c{i}@example.com", first_name=f"C{i}", last_name="Lee"
        )
        for i in range(3)
    ]
    for n, d in enumerate(plan):
        order_id = ID_BASE + 700_000_000 + run * 1000 + n

        def order(domain: str, d: dict[str, Any] = d, order_id: int = order_id) -> Any:
            return _order(domain, order_id, customers, d)

        if d["story"] == "create, paid":
            _send(client, shops, clock, "orders/create", order)
        _send(client, shops, clock, "orders/paid", order)
        if d["story"] == "paid twice":  # another subscription: a new webhook id, same order
            _send(client, shops, clock, "orders/paid", order)
        if d["story"] == "paid, refund":

            def refund(domain: str, order: Any = order, n: int = n) -> Any:
                paid = order(domain)
                return build_refund(
                    refund_id=ID_BASE + 800_000_000 + run * 1000 + n,
                    order=paid,
                    lines=[(paid["line_items"][0]["id"], 1)],
                )

            _send(client, shops, clock, "refunds/create", refund)


def _rows(app: Flask, domain: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the shop, ids replaced by what they stand for, sorted."""
    with app.extensions["kanta"].db.read() as session:
        shop_id = session.scalars(select(Shop.id).where(Shop.domain == domain)).one()
        customers = {
            c.id: c.shopify_customer_id
            for c in session.scalars(select(Customer).where(Customer.shop_id == shop_id))
        }
        tables: dict[str, list[tuple[Any, ...]]] = {}
        for model in (Customer, Order, OrderEvent, LedgerEntry, OrderLine, WebhookReceipt):
            rows = []
            for row in session.scalars(select(model).where(model.shop_id == shop_id)):
                values = []
                for column in model.__table__.columns:  # type: ignore[attr-defined]
                    if column.name in ("id", "shop_id", "event_id", "triggered_at"):
                        continue  # ids, and the headers each delivery is signed with
                    if column.name == "updated_at":
                        # The ORM stamps the flush's wall-clock time (onupdate) when a unit
                        # of work sets it to the value it already had; the express lane
                        # writes the delivery's moment. Bookkeeping, not the ledger.
                        continue
                    value = getattr(row, column.key)
                    if column.name == "customer_id" and value is not None:
                        value = customers[value]
                    if column.name == "webhook_id":
                        value = value.rsplit("-", 1)[0].rsplit("-", 1)[0]
                    if column.name == "idempotency_key" and value.startswith("welcome:"):
                        value = f"welcome:{customers[int(value.split(':')[1])]}"
                    values.append((column.name, value))
                rows.append(tuple(values))
            tables[model.__tablename__] = sorted(rows, key=repr)
        return tables


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=programs, plan=deliveries)
def test_the_express_lane_writes_what_the_general_path_writes(
    app: Flask, client: FlaskClient, clock: Clock, lanes: Lanes, program: Any, plan: Any
) -> None:
    run = next(_ids)
    fast, slow = f"express-{run}.myshopify.com", f"general-{run}.myshopify.com"
    for domain in (fast, slow):
        install_shop(app, domain, program=program)
    lanes.general.add(slow)

    _play(client, [fast, slow], clock, plan)

    _assert_same(_rows(app, fast), _rows(app, slow))


def _assert_same(fast: dict[str, Any], slow: dict[str, Any]) -> None:
    for table in slow:
        assert len(fast[table]) == len(slow[table]), table
        for a, b in zip(fast[table], slow[table], strict=True):
            differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
            assert not differing, (table, differing, dict(a), dict(b))


def test_a_new_paid_order_takes_the_express_lane_and_a_late_one_does_not(
    app: Flask, client: FlaskClient, clock: Clock, lanes: Lanes
) -> None:
    fast, slow = "express-a.myshopify.com", "general-a.myshopify.com"
    for domain in (fast, slow):
        install_shop(app, domain, program={"welcome_bonus": 50, "pending_days": 14})
    lanes.general.add(slow)
    plan = [
        {
            "customer": 0,
            "hour": hour,
            "lines": [(12_000, 1, False, 0)],
            "shipping": "4.90",
            "tax_rate": "0",
            "taxes_included": False,
            "source_name": "web",
            "test": False,
            "story": "paid",
        }
        for hour in (5, 6, 2)  # the third was processed before both: a late delivery
    ]
    _play(client, [fast, slow], clock, plan)

    assert lanes.express == 2  # the first two; the late one re-tiers them on the general path
    rows = _rows(app, fast)
    _assert_same(rows, _rows(app, slow))
    kinds = sorted(dict(r)["kind"] for r in rows["ledger_entries"])
    assert kinds == ["order_award", "order_award", "order_award", "welcome_bonus"]


def test_a_paid_event_already_kept_sends_the_delivery_down_the_general_path(
    app: Flask, client: FlaskClient, clock: Clock, lanes: Lanes
) -> None:
    """The express lane asserts, inside its writing statement, that the order's paid event is
    new: a kept one (an order row lost, say) makes the whole attempt roll back."""
    shop_id = install_shop(app, "express-b.myshopify.com", program={"welcome_bonus": 50})
    customer = build_customer(
        ID_BASE + 9_999_000, email="k@example.com", first_name="K", last_name="L"
    )
    order = build_order(
        order_id=ID_BASE + 9_999_001,
        shop_domain="express-b.myshopify.com",
        customer=customer,
        lines=[LineSpec("Tea", Decimal("40.00"))],
        created_at=START,
    )
    with app.extensions["kanta"].db.transaction() as session:
        session.add(
            OrderEvent(
                shop_id=shop_id,
                shopify_order_id=order["id"],
                kind="paid",
                source_id=order["id"],
                facts={"customer": None},
                received_at=clock(),
            )
        )

    response = post_webhook(client, "orders/paid", order, shop="express-b.myshopify.com")

    assert response.get_json() == {"status": "ok"}
    with app.extensions["kanta"].db.read() as session:
        events = session.scalars(select(OrderEvent).where(OrderEvent.shop_id == shop_id)).all()
        assert len(events) == 1
        assert events[0].facts == {"customer": None}  # the kept one, settled by the general path
        order_row = session.scalars(select(Order).where(Order.shop_id == shop_id)).one()
        assert (order_row.award_status, order_row.award_note) == (
            "none",
            "no customer on the order",
        )

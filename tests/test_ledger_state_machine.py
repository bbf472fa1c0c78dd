"""A stateful property test (hypothesis): whatever a shop lives through — orders, partial and
full refunds, cancellations, manual adjustments, time passing, pending releases, expiry and tier
ageing, in any order — the ledger's invariants hold after every step:

- every customer's stored balance, pending points and tier points equal the sums of their
  entries (``ledger verify`` finds nothing);
- no order ever has more reversed than awarded, nor negative pending points;
- an order that is fully refunded or cancelled nets to exactly zero.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from devstore.payloads import (
    ID_BASE,
    LineSpec,
    build_cancelled_order,
    build_customer,
    build_order,
    build_refund,
)
from plugin import ledger
from plugin.jobs import run_daily
from plugin.loyalty.orders import parse_order, parse_refund
from plugin.models import Customer, LedgerEntry, Order, Shop
from tests.conftest import SHOP, START, Clock, install_shop, wipe

_ids = itertools.count(1)


def fresh_id() -> int:
    return ID_BASE + 900_000_000 + next(_ids) * 100


def test_the_ledger_invariants_hold_through_any_history(make_app: Any, clock: Clock) -> None:
    app: Flask = make_app()
    k = app.extensions["kanta"]

    def in_shop(fn: Any) -> Any:
        with k.db.transaction() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
            return fn(session, shop)

    class ShopLife(RuleBasedStateMachine):
        orders = Bundle("orders")

        def __init__(self) -> None:
            super().__init__()
            # Every history starts from an empty shop at the same moment.
            wipe(k.settings.database_url)
            install_shop(app, program={"pending_days": 3, "expiry_days": 40})
            clock.now = START
            self.customers = [fresh_id() for _ in range(3)]
            self.quantities: dict[int, list[int]] = {}
            self.refunded: dict[int, list[int]] = {}

        @rule(
            target=orders,
            who=st.integers(min_value=0, max_value=2),
            prices=st.lists(st.integers(min_value=1, max_value=90_000), min_size=1, max_size=3),
            qty=st.integers(min_value=1, max_value=3),
        )
        def pay(self, who: int, prices: list[int], qty: int) -> dict[str, Any]:
            customer = self.customers[who]
            order = build_order(
                order_id=fresh_id(),
                shop_domain=SHOP,
                customer=build_customer(
                    customer, email=f"{customer}@x.io", first_name="A", last_name="B"
                ),
                lines=[LineSpec(f"P{i}", Decimal(p) / 100, qty) for i, p in enumerate(prices)],
            )
            in_shop(
                lambda s, shop: ledger.record_order(s, shop, parse_order(order), "paid", clock())
            )
            self.quantities[order["id"]] = [qty] * len(prices)
            self.refunded[order["id"]] = [0] * len(prices)
            return order

        @rule(order=orders, data=st.data())
        def refund_some(self, order: dict[str, Any], data: st.DataObject) -> None:
            done = self.refunded[order["id"]]
            lines = []
            for index, item in enumerate(order["line_items"]):
                left = item["quantity"] - done[index]
                take = data.draw(st.integers(min_value=0, max_value=left))
                if take:
                    lines.append((item["id"], take))
                    done[index] += take
            if not lines:
                return
            refund = build_refund(refund_id=fresh_id(), order=order, lines=lines)
            in_shop(lambda s, shop: ledger.record_refund(s, shop, parse_refund(refund), clock()))

        @rule(order=consumes(orders))
        def cancel(self, order: dict[str, Any]) -> None:
            cancelled = build_cancelled_order(order)
            in_shop(
                lambda s, shop: ledger.record_order(
                    s, shop, parse_order(cancelled), "cancelled", clock()
                )
            )

        @rule(who=st.integers(min_value=0, max_value=2), points=st.integers(-300, 300).filter(bool))
        def adjust(self, who: int, points: int) -> None:
            def go(session: Any, shop: Shop) -> None:
                pk = session.scalar(
                    select(Customer.id).where(Customer.shopify_customer_id == self.customers[who])
                )
                if pk is not None:
                    ledger.adjust_points(
                        session, shop, pk, points, "goodwill", "test", str(fresh_id()), clock()
                    )

            in_shop(go)

        @rule(days=st.integers(min_value=1, max_value=200))
        def time_passes(self, days: int) -> None:
            clock.advance(days=days)
            run_daily(k)

        @invariant()
        def projections_equal_the_ledger(self) -> None:
            with k.db.read() as session:
                shops = list(session.scalars(select(Shop)))
                assert ledger.verify_ledger(session, shops) == []

        @invariant()
        def orders_never_reverse_more_than_they_earned(self) -> None:
            with k.db.read() as session:
                for order in session.scalars(select(Order).where(Order.award_status == "awarded")):
                    assert 0 <= order.reversed_points <= order.awarded_points
                    assert order.pending_remaining >= 0
                    order_id = order.shopify_order_id
                    fully_back = order.cancelled_at is not None or (
                        self.refunded[order_id] == self.quantities[order_id]
                    )
                    if fully_back:
                        assert order.reversed_points == order.awarded_points
                        net = session.scalar(
                            select(func.sum(LedgerEntry.points + LedgerEntry.pending_points)).where(
                                LedgerEntry.shopify_order_id == order_id
                            )
                        )
                        assert net == 0

    run_state_machine_as_test(
        ShopLife,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )

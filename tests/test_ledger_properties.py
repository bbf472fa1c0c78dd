"""Property-based tests of the ledger's invariants (hypothesis).

For any order (gift cards, order discounts, earn rates from 1 to 100 points per 1.00), an optional
edit after payment adding a paid line, any refunds by line and by amount mixed, an optional refund
of all the money left and an optional cancellation, delivered in any order and any number of
times (a redelivery, or a second subscription to the same topic):

- the ledger ends with the same totals as when the events arrive once each in their natural
  order (at most one entry per event, keyed by its source, none that moves no points). Only the
  split of a reversal between two refunds may differ by a rounding point when they arrive the
  other way round; the sum never does, because reversals are cumulative;
- reversals never exceed the award, and refunding everything — every unit, or all the money,
  whatever the mix — (or cancelling) reverses exactly the award: the order ends at zero;
- ``ledger verify`` re-derives every order's points from its events and agrees;
- the customer's stored balance equals the sum of their entries.

And for a customer's several orders and refunds, processed an hour apart around the tier
thresholds and delivered in any order, the balance and tier points end as if delivered in the
order Shopify processed them (late deliveries correct the later awards' tiers).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from devstore.changes import build_amount_refund, build_edited_order
from devstore.payloads import ID_BASE, LineSpec, build_cancelled_order, build_customer, build_order
from devstore.payloads import build_refund as shopify_refund
from plugin import ledger
from plugin.loyalty.orders import parse_order, parse_refund
from plugin.models import Customer, LedgerEntry, Order, Shop
from tests.conftest import SHOP, START, Clock

_ids = itertools.count(1)


def fresh_id() -> int:
    return ID_BASE + 500_000_000 + next(_ids) * 10_000


@dataclass(frozen=True)
class Event:
    topic: str
    payload: dict[str, Any]


@st.composite
def order_stories(draw: st.DrawFn) -> dict[str, Any]:
    raw_lines = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=1, max_value=40_000),
                st.integers(min_value=1, max_value=4),
                st.sampled_from([False, False, False, True]),  # some gift cards
            ),
            min_size=1,
            max_size=4,
        )
    )
    lines = [
        LineSpec(
            title=f"Item {i}",
            price=Decimal(cents) / 100,
            quantity=qty,
            gift_card=gift,
        )
        for i, (cents, qty, gift) in enumerate(raw_lines)
    ]
    # Refunds: each takes some of what is left of each line.
    left = [qty for _, qty, _ in raw_lines]
    refunds: list[list[tuple[int, int]]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        taken = []
        for index, remaining in enumerate(left):
            qty = draw(st.integers(min_value=0, max_value=remaining))
            if qty:
                taken.append((index, qty))
                left[index] -= qty
        if taken:
            refunds.append(taken)
    # Refunds by amount (no line named), in cents, mixed in among the line refunds.
    amounts = draw(st.lists(st.integers(min_value=1, max_value=5_000), max_size=2))
    added = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=20_000)))
    counted = sum((line.price * line.quantity for line in lines if not line.gift_card), Decimal(0))
    discount = draw(st.sampled_from([0, 0, 1, 3])) * counted / 10
    return {
        "lines": lines,
        "discount": discount.quantize(Decimal("0.01")),
        "earn_rate": draw(st.sampled_from(["1", "1", "2.5", "10", "100"])),
        "refunds": refunds,
        "amounts": amounts,
        # An edit after payment that adds a paid line (orders/updated with the new contents).
        "added": added,
        "cancel": draw(st.booleans()),
        # Finally refund, by amount, whatever money is left: the order ends at zero.
        "refund_rest": draw(st.booleans()),
        "everything_refunded": all(q == 0 for q in left) and added is None,
        "copies": draw(st.lists(st.integers(min_value=1, max_value=3), min_size=8, max_size=8)),
        "shuffle": draw(st.randoms(use_true_random=False)),
    }


def make_events(story: dict[str, Any]) -> list[Event]:
    customer_id = fresh_id()
    order = build_order(
        order_id=fresh_id(),
        shop_domain=SHOP,
        customer=build_customer(customer_id, email="p@example.com", first_name="P", last_name="Q"),
        lines=story["lines"],
        order_discount=story["discount"],
    )
    events = [Event("orders/paid", order)]
    contents = order
    if story["added"] is not None:
        contents = build_edited_order(
            order, add=[LineSpec("Added", Decimal(story["added"]) / 100)], edit_index=1
        )
        events.append(Event("orders/updated", contents))
    returned = Decimal(0)
    for taken in story["refunds"]:
        refund = shopify_refund(
            refund_id=fresh_id(),
            order=order,
            lines=[(order["line_items"][i]["id"], qty) for i, qty in taken],
        )
        returned += sum((Decimal(t["amount"]) for t in refund["transactions"]), Decimal(0))
        events.append(Event("refunds/create", refund))
    for cents in story["amounts"]:
        amount = min(Decimal(cents) / 100, Decimal(contents["total_price"]) - returned)
        if amount <= 0:
            continue
        returned += amount
        events.append(
            Event(
                "refunds/create",
                build_amount_refund(refund_id=fresh_id(), order=contents, amount=amount),
            )
        )
    rest = Decimal(contents["total_price"]) - returned
    if story["refund_rest"] and rest > 0:
        events.append(
            Event(
                "refunds/create",
                build_amount_refund(refund_id=fresh_id(), order=contents, amount=rest),
            )
        )
    if story["cancel"]:
        events.append(Event("orders/cancelled", build_cancelled_order(order)))
    return events


def set_earn_rate(app: Flask, rate: str) -> None:
    from plugin.loyalty.program import ProgramSettings

    with app.extensions["kanta"].db.transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        shop.program = ProgramSettings.from_dict({**shop.program, "earn_rate": rate}).to_dict()


def deliver(app: Flask, events: list[Event], clock: Clock) -> None:
    k = app.extensions["kanta"]
    for event in events:
        with k.db.transaction() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
            if event.topic == "refunds/create":
                ledger.record_refund(session, shop, parse_refund(event.payload), clock())
            else:
                kind = {"orders/paid": "paid", "orders/cancelled": "cancelled"}.get(event.topic)
                ledger.record_order(session, shop, parse_order(event.payload), kind, clock())
        clock.advance(seconds=1)


def outcome(app: Flask, order_id: int) -> dict[str, Any]:
    k = app.extensions["kanta"]
    with k.db.read() as session:
        order = session.scalars(select(Order).where(Order.shopify_order_id == order_id)).one()
        entries = list(
            session.scalars(select(LedgerEntry).where(LedgerEntry.shopify_order_id == order_id))
        )
        customer = session.get(Customer, order.customer_id)
        assert customer is not None
        summed = session.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.customer_id == customer.id)
        )
        assert customer.points_balance == (summed or 0)
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        assert ledger.verify_orders(session, shop) == []  # every order re-derives from its events
        # A step that moves no points writes no entry, so which event's entry carries a
        # reversal may depend on arrival; every entry moves points and is keyed by its source.
        assert all(
            e.points or e.pending_points or e.tier_points
            for e in entries
            if e.kind != "order_award"  # an award is shown even when it earns 0
        )
        assert len({e.idempotency_key for e in entries}) == len(entries)
        return {
            # Which event's entry carries a rounding point may depend on arrival; totals never.
            "kinds_allowed": {e.kind for e in entries}
            <= {
                "order_award",
                "edit_award",
                "edit_reversal",
                "refund_reversal",
                "cancellation_reversal",
            },
            "awarded": order.awarded_points,
            "reversed": order.reversed_points,
            "balance": customer.points_balance,
            "tier_points": customer.tier_points,
        }


def shuffled_with_duplicates(events: list[Event], story: dict[str, Any]) -> list[Event]:
    delivered = [e for e, n in zip(events, story["copies"], strict=False) for _ in range(n)]
    story["shuffle"].shuffle(delivered)
    return delivered


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=order_stories())
def test_any_order_and_duplication_of_deliveries_ends_in_the_same_ledger(
    app: Flask, shop: int, clock: Clock, story: dict[str, Any]
) -> None:
    set_earn_rate(app, story["earn_rate"])
    events = make_events(story)
    natural = [dict(e.payload) for e in events]
    deliver(app, events, clock)
    expected = outcome(app, events[0].payload["id"])

    # The same story again for a new customer and order, delivered shuffled and duplicated.
    replay = make_events(story)
    deliver(app, shuffled_with_duplicates(replay, story), clock)
    actual = outcome(app, replay[0].payload["id"])

    if story["cancel"]:
        # A cancelled order ends at zero; whether an edit's line was added before the
        # cancellation arrived changes its gross award, never its net.
        for result in (actual, expected):
            result["net"] = result.pop("awarded") - result.pop("reversed")
    assert actual == expected
    assert expected["kinds_allowed"]
    assert len(natural) >= len(replay)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=order_stories())
def test_reversals_never_exceed_the_award_and_everything_back_reverses_it_exactly(
    app: Flask, shop: int, clock: Clock, story: dict[str, Any]
) -> None:
    set_earn_rate(app, story["earn_rate"])
    events = make_events(story)
    deliver(app, shuffled_with_duplicates(events, story), clock)
    result = outcome(app, events[0].payload["id"])

    assert 0 <= result["reversed"] <= result["awarded"]
    if story["cancel"] or story["everything_refunded"] or story["refund_rest"]:
        assert result["reversed"] == result["awarded"]
        assert result["balance"] == 0
    else:
        assert result["balance"] == result["awarded"] - result["reversed"]


@st.composite
def customer_histories(draw: st.DrawFn) -> dict[str, Any]:
    """Two to four orders of one customer, processed an hour apart, amounts around the tier
    thresholds, some refunded (in full or one unit) an hour and a half after their order."""
    orders = draw(
        st.lists(
            st.tuples(
                st.sampled_from([120, 380, 499, 500, 700, 1100, 1500]),  # price
                st.integers(min_value=1, max_value=2),  # quantity
                st.sampled_from([None, None, "one", "all"]),  # refund
            ),
            min_size=2,
            max_size=4,
        )
    )
    return {"orders": orders, "shuffle": draw(st.randoms(use_true_random=False))}


def history_events(history: dict[str, Any]) -> tuple[int, list[tuple[datetime, Event]]]:
    customer = build_customer(fresh_id(), email="h@example.com", first_name="H", last_name="I")
    events: list[tuple[datetime, Event]] = []
    for i, (price, quantity, refund) in enumerate(history["orders"]):
        processed = START + timedelta(hours=i)
        order = build_order(
            order_id=fresh_id(),
            shop_domain=SHOP,
            customer=customer,
            lines=[LineSpec("Thing", Decimal(price), quantity)],
            created_at=processed,
        )
        events.append((processed, Event("orders/paid", order)))
        if refund is not None:
            units = quantity if refund == "all" else 1
            moment = processed + timedelta(minutes=90)
            payload = shopify_refund(
                refund_id=fresh_id(),
                order=order,
                lines=[(order["line_items"][0]["id"], units)],
                created_at=moment,
            )
            events.append((moment, Event("refunds/create", payload)))
    return customer["id"], sorted(events, key=lambda pair: pair[0])


def customer_outcome(app: Flask, customer_id: int) -> tuple[int, int]:
    with app.extensions["kanta"].db.read() as session:
        customer = session.scalars(
            select(Customer).where(Customer.shopify_customer_id == customer_id)
        ).one()
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        assert ledger.verify_ledger(session, [shop]) == []
        assert ledger.verify_orders(session, shop) == []
        return customer.points_balance, customer.tier_points


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=customer_histories())
def test_a_customers_orders_delivered_in_any_order_end_as_if_delivered_as_processed(
    app: Flask, shop: int, clock: Clock, history: dict[str, Any]
) -> None:
    """Tiers follow processed_at: late orders and late refunds correct the later awards."""
    first, natural = history_events(history)
    deliver(app, [event for _, event in natural], clock)
    expected = customer_outcome(app, first)

    second, events = history_events(history)
    replay = [event for _, event in events]
    history["shuffle"].shuffle(replay)
    deliver(app, replay, clock)
    assert customer_outcome(app, second) == expected

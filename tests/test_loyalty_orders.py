"""Unit tests of the pure rules: what of an order counts, and the arithmetic of points."""

from __future__ import annotations

from decimal import Decimal

import pytest

from devstore.payloads import ID_BASE, LineSpec, build_customer, build_order, build_refund
from plugin.loyalty.orders import (
    PayloadError,
    eligible_amounts,
    parse_order,
    parse_refund,
)
from plugin.loyalty.points import award_points, cumulative_reversal, split_reversal
from plugin.loyalty.program import ProgramError, ProgramSettings
from plugin.loyalty.settlement import OrderSnapshot

D = Decimal


def order(**kwargs: object) -> dict[str, object]:
    return build_order(
        order_id=ID_BASE + 1,
        shop_domain="s.myshopify.com",
        customer=build_customer(ID_BASE + 2, email="a@b.c", first_name="A", last_name="B"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_eligible_amount_reads_shop_money_not_presentment_money() -> None:
    payload = order(
        lines=[LineSpec("Mug", D("12.34"), 3)], presentment_currency="EUR", exchange_rate=D("0.9")
    )
    facts = parse_order(payload)
    amounts = eligible_amounts(facts, include_shipping=False, include_tax=False)
    assert amounts.total == D("37.02")
    assert facts.customer is not None
    assert facts.customer.shopify_id == ID_BASE + 2


def test_refund_share_follows_the_award_snapshot() -> None:
    payload = order(lines=[LineSpec("Mug", D("10.00"), 4), LineSpec("Tea", D("5.00"))])
    award = OrderSnapshot.of(parse_order(payload), include_shipping=False, include_tax=False)
    line_ids = [line["id"] for line in payload["line_items"]]  # type: ignore[index]
    refund = parse_refund(
        build_refund(refund_id=ID_BASE + 3, order=payload, lines=[(line_ids[0], 3)])
    )
    snapshot = OrderSnapshot.from_json(award.to_json()).with_refund(refund)
    assert snapshot.reversed_eligible(amount_refunds_reverse=True) == D("30.00")
    again = snapshot.with_refund(refund)  # cumulative: by units capped at the line ...
    assert again.reversed_eligible(amount_refunds_reverse=False) == D("40.00")
    # ... and 60.00 back of the 45.00 the order charged is everything.
    assert again.reversed_eligible(amount_refunds_reverse=True) == D("45.00")
    assert (
        parse_refund(
            build_refund(refund_id=ID_BASE + 4, order=payload, lines=[], shipping=D("0"))
        ).lines
        == ()
    )


def test_refund_line_subtotals_as_json_numbers_are_read_exactly() -> None:
    payload = order(lines=[LineSpec("Mug", D("0.10"), 3)])
    refund = build_refund(
        refund_id=ID_BASE + 5,
        order=payload,
        lines=[(payload["line_items"][0]["id"], 3)],  # type: ignore[index]
    )
    assert isinstance(refund["refund_line_items"][0]["subtotal"], float | int)
    assert parse_refund(refund).lines == ((payload["line_items"][0]["id"], 3),)  # type: ignore[index]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "#1"}, "id"),
        ({"id": "abc"}, "id"),
        ({"id": 2**63}, "id"),
        ({"id": True}, "id"),
        ({"id": 1, "line_items": {"a": 1}}, "line_items"),
        ({"id": 1, "line_items": [{"id": 2, "quantity": -1}]}, "quantity"),
        ({"id": 1, "line_items": [{"id": 2, "quantity": 1, "price": "abc"}]}, "price"),
        ({"id": 1, "line_items": [{"id": 2, "quantity": 1, "price": "1e30"}]}, "price"),
        ({"id": 1, "line_items": [{"id": 2, "quantity": 1, "price": "NaN"}]}, "price"),
        (
            {"id": 1, "line_items": [{"id": 2, "quantity": 1, "discount_allocations": 5}]},
            "discount_allocations",
        ),
    ],
)
def test_unreadable_orders_are_refused_with_a_reason(
    payload: dict[str, object], message: str
) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_order(payload)


def test_unreadable_refunds_are_refused() -> None:
    with pytest.raises(PayloadError, match="order_id"):
        parse_refund({"id": 1})
    with pytest.raises(PayloadError, match="quantity"):
        parse_refund({"id": 1, "order_id": 2, "refund_line_items": [{"line_item_id": 3}]})


def test_awards_round_down_and_never_go_negative() -> None:
    assert award_points(D("99.99"), D("1"), D("1")) == 99
    assert award_points(D("10.00"), D("1"), D("1.25")) == 12
    assert award_points(D("0"), D("1"), D("1.5")) == 0
    assert award_points(D("-5"), D("1"), D("1")) == 0


def test_cumulative_reversal_is_half_up_capped_and_exact_at_full_refund() -> None:
    assert cumulative_reversal(99, D("99.99"), D("33.33")) == 33
    assert cumulative_reversal(3, D("2"), D("1")) == 2  # 1.5 → 2, half up
    assert cumulative_reversal(99, D("99.99"), D("99.99")) == 99
    assert cumulative_reversal(99, D("99.99"), D("500")) == 99
    assert cumulative_reversal(0, D("10"), D("10")) == 0
    assert split_reversal(30, 20) == (20, 10)
    assert split_reversal(30, 0) == (0, 30)


def test_program_settings_validate_and_keep_defaults() -> None:
    program = ProgramSettings.from_dict({"earn_rate": "2.5", "pending_days": 14})
    assert program.earn_rate == D("2.5")
    assert program.tier_for(1499).name == "Silver"
    assert program.tier_for(1500).name == "Gold"
    assert program.next_tier(1500) is None
    with pytest.raises(ProgramError) as error:
        ProgramSettings.from_dict(
            {
                "earn_rate": 1.5,  # floats are refused: exact decimals only
                "pending_days": -1,
                "tiers": [{"name": "A", "threshold": 10, "multiplier": "1"}],
            }
        )
    assert set(error.value.errors) == {"earn_rate", "pending_days", "tiers"}


def test_units_removed_by_an_order_edit_do_not_earn_but_refunded_units_are_reversed_later() -> None:
    payload = order(lines=[LineSpec("Mug", D("10.00"), 3)])
    line = payload["line_items"][0]  # type: ignore[index]
    line["current_quantity"] = 2  # the merchant removed one mug before payment
    amounts = eligible_amounts(parse_order(payload), include_shipping=False, include_tax=False)
    assert amounts.total == D("20.00")
    assert amounts.lines[line["id"]][0] == 2

    # The same current_quantity explained by a refund already in the payload: the order earns
    # on all three and the refunds/create webhook reverses the refunded one.
    payload["refunds"] = [  # type: ignore[index]
        {"id": ID_BASE + 9, "refund_line_items": [{"line_item_id": line["id"], "quantity": 1}]}
    ]
    amounts = eligible_amounts(parse_order(payload), include_shipping=False, include_tax=False)
    assert amounts.total == D("30.00")

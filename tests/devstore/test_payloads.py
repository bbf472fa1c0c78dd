"""Payload builders: Shopify's shapes, exact money, totals that add up in both currencies."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devstore.payloads import (
    LineSpec,
    apply_refund,
    build_cancelled_order,
    build_customer,
    build_customers_data_request,
    build_customers_redact,
    build_order,
    build_refund,
    build_shop_redact,
)

ORDER_ID = 7_000_000_000_000_001_001
SHOP = "kanta-demo.myshopify.com"
D = Decimal


def _customer() -> dict[str, Any]:
    return build_customer(
        7_000_000_000_000_000_101,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
    )


def _order(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "order_id": ORDER_ID,
        "shop_domain": SHOP,
        "customer": _customer(),
        "lines": [
            LineSpec(
                "Sencha",
                D("12.50"),
                2,
                7_000_000_000_000_010_001,
                7_000_000_000_000_020_001,
            ),
            LineSpec(
                "Mug",
                D("20.00"),
                1,
                7_000_000_000_000_010_002,
                7_000_000_000_000_020_002,
                discount=D("2.00"),
            ),
            LineSpec(
                "Gift card",
                D("25.00"),
                1,
                7_000_000_000_000_010_003,
                7_000_000_000_000_020_003,
                gift_card=True,
            ),
        ],
        "order_discount": D("5.00"),
        "discount_code": "KANTA-500",
        "shipping": D("4.90"),
        "tax_rate": D("0.08"),
        "presentment_currency": "EUR",
        "exchange_rate": D("0.92"),
    }
    kwargs.update(overrides)
    return build_order(**kwargs)


def _amount(money_set: dict[str, Any], side: str = "shop_money") -> Decimal:
    return Decimal(money_set[side]["amount"])


def _all_ids(node: Any) -> list[int]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k.endswith("id") and isinstance(v, int)]
        return found + [i for v in node.values() for i in _all_ids(v)]
    if isinstance(node, list):
        return [i for v in node for i in _all_ids(v)]
    return []


def _assert_consistent(order: dict[str, Any]) -> None:
    for side in ("shop_money", "presentment_money"):
        lines = order["line_items"]
        gross = sum((_amount(li["price_set"], side) * li["quantity"] for li in lines), D(0))
        alloc = sum(
            (_amount(a["amount_set"], side) for li in lines for a in li["discount_allocations"]),
            D(0),
        )
        tax = sum(
            (_amount(t["price_set"], side) for li in lines for t in li["tax_lines"]),
            D(0),
        )
        ship = sum((_amount(s["price_set"], side) for s in order["shipping_lines"]), D(0))
        assert _amount(order["total_line_items_price_set"], side) == gross
        assert _amount(order["total_discounts_set"], side) == alloc
        assert _amount(order["subtotal_price_set"], side) == gross - alloc
        assert _amount(order["total_tax_set"], side) == tax
        assert _amount(order["total_shipping_price_set"], side) == ship
        extra_tax = D(0) if order["taxes_included"] else tax
        assert _amount(order["total_price_set"], side) == gross - alloc + ship + extra_tax + (
            D(order["total_tip_received"]) if side == "shop_money" else D(0)
        )


def test_order_totals_are_consistent_in_both_currencies() -> None:
    order = _order()
    _assert_consistent(order)
    assert order["total_price"] == order["total_price_set"]["shop_money"]["amount"]
    assert order["presentment_currency"] == "EUR"
    assert order["total_price_set"]["presentment_money"]["currency_code"] == "EUR"


def test_order_shape_and_ids() -> None:
    order = _order()
    text = json.dumps(order)  # JSON-ready: no Decimal, no datetime
    assert order["admin_graphql_api_id"] == f"gid://shopify/Order/{ORDER_ID}"
    ids = _all_ids(order)
    assert ids
    assert all(2**53 < i < 2**63 for i in ids if i > 10_000)
    assert order["line_items"][0]["id"] > 2**53
    assert order["created_at"].endswith("+00:00")
    assert order["discount_codes"] == [
        {"code": "KANTA-500", "amount": "5.00", "type": "fixed_amount"}
    ]
    across = order["discount_applications"][1]
    assert across["allocation_method"] == "across"
    gift = order["line_items"][2]
    assert gift["discount_allocations"] == []
    assert gift["tax_lines"] == []
    assert not gift["requires_shipping"]
    assert {
        a["discount_application_index"] for a in order["line_items"][1]["discount_allocations"]
    } == {0, 1}
    assert order["shipping_lines"][0]["title"] == "Standard"
    assert 4_000 < len(text) < 14_000


def test_tax_inclusive_line_tax() -> None:
    order = _order(
        lines=[LineSpec("Tea", D("11.00"))],
        order_discount=D(0),
        tax_rate=D("0.10"),
        taxes_included=True,
        presentment_currency=None,
        exchange_rate=D(1),
    )
    assert order["line_items"][0]["tax_lines"][0]["price"] == "1.00"
    assert order["total_price"] == "15.90"  # 11.00 incl. tax + 4.90 shipping
    _assert_consistent(order)


def test_pos_order_has_no_shipping_and_a_location() -> None:
    order = _order(source_name="pos")
    assert order["shipping_lines"] == []
    assert order["location_id"] is not None
    assert order["source_name"] == "pos"
    _assert_consistent(order)


def test_refund_subtotals_are_numbers_and_sets_are_strings() -> None:
    order = _order()
    tea = order["line_items"][0]
    refund = build_refund(
        refund_id=7_000_000_000_000_003_001,
        order=order,
        lines=[(tea["id"], 1)],
        shipping=D("4.90"),
    )
    rli = refund["refund_line_items"][0]
    assert isinstance(rli["subtotal"], float)
    assert isinstance(rli["total_tax"], float)
    assert isinstance(rli["subtotal_set"]["shop_money"]["amount"], str)
    net = D("25.00") - sum((D(a["amount"]) for a in tea["discount_allocations"]), D(0))
    assert D(str(rli["subtotal"])) == (net / 2).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert refund["order_adjustments"][0]["kind"] == "shipping_refund"
    assert refund["order_adjustments"][0]["amount"] == "-4.90"
    txn = refund["transactions"][0]
    assert txn["kind"] == "refund"
    assert txn["status"] == "success"
    assert D(txn["amount"]) == D(str(rli["subtotal"])) + D(str(rli["total_tax"])) + D("4.90")
    assert rli["line_item"]["id"] == tea["id"]


def test_full_refund_then_cancel_returns_everything() -> None:
    order = _order()
    everything = [(li["id"], li["quantity"]) for li in order["line_items"]]
    shipping = D(order["total_shipping_price_set"]["shop_money"]["amount"])
    refund = build_refund(
        refund_id=7_000_000_000_000_003_002,
        order=order,
        lines=everything,
        shipping=shipping,
    )
    assert refund["transactions"][0]["amount"] == order["total_price"]
    updated = apply_refund(order, refund)
    assert updated["financial_status"] == "refunded"
    assert updated["current_total_price"] == "0.00"
    assert all(li["current_quantity"] == 0 for li in updated["line_items"])
    cancelled = build_cancelled_order(updated, reason="customer")
    assert cancelled["cancel_reason"] == "customer"
    assert cancelled["cancelled_at"]


def test_partial_refund_moves_status_and_cannot_over_refund() -> None:
    order = _order()
    tea = order["line_items"][0]
    refund = build_refund(refund_id=7_000_000_000_000_003_003, order=order, lines=[(tea["id"], 2)])
    updated = apply_refund(order, refund)
    assert updated["financial_status"] == "partially_refunded"
    with pytest.raises(ValueError, match="cannot refund"):
        build_refund(refund_id=7_000_000_000_000_003_004, order=updated, lines=[(tea["id"], 1)])


@settings(max_examples=60, deadline=None)
@given(
    prices=st.lists(st.decimals("0.01", "500", places=2), min_size=1, max_size=5),
    qty=st.integers(1, 4),
    discount=st.decimals("0", "20", places=2),
    rate=st.sampled_from([D(0), D("0.05"), D("0.0825"), D("0.2")]),
    fx=st.sampled_from([D(1), D("0.92"), D("1.3571")]),
    included=st.booleans(),
)
def test_totals_always_add_up(
    prices: list[Decimal],
    qty: int,
    discount: Decimal,
    rate: Decimal,
    fx: Decimal,
    included: bool,
) -> None:
    lines = [LineSpec(f"P{i}", p, qty) for i, p in enumerate(prices)]
    discount = min(discount, sum(prices, D(0)) * qty)
    order = _order(
        lines=lines,
        order_discount=discount,
        tax_rate=rate,
        exchange_rate=fx,
        taxes_included=included,
    )
    _assert_consistent(order)
    refund = build_refund(
        refund_id=7_000_000_000_000_003_005,
        order=order,
        lines=[(li["id"], li["quantity"]) for li in order["line_items"]],
        shipping=D("4.90"),
    )
    assert refund["transactions"][0]["amount"] == order["total_price"]


def test_compliance_payloads() -> None:
    redact = build_customers_redact(
        1, SHOP, 7_000_000_000_000_000_101, "ada@example.com", [ORDER_ID]
    )
    assert redact == {
        "shop_id": 1,
        "shop_domain": SHOP,
        "customer": {
            "id": 7_000_000_000_000_000_101,
            "email": "ada@example.com",
            "phone": None,
        },
        "orders_to_redact": [ORDER_ID],
    }
    request = build_customers_data_request(1, SHOP, 7, "a@b.c", [ORDER_ID], 9)
    assert request["data_request"] == {"id": 9}
    assert request["orders_requested"] == [ORDER_ID]
    assert build_shop_redact(1, SHOP) == {"shop_id": 1, "shop_domain": SHOP}

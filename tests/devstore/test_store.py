"""The store's story: checkout, refunds, cancellation, fulfilment, install state, persistence."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from devstore_testkit import API_KEY, API_SECRET, SHOP, Clock

from devstore import DevStore


def _variant(store: DevStore, title: str) -> int:
    product = next(p for p in store.products() if p["title"] == title)
    variant_id: int = product["variants"][0]["id"]
    return variant_id


def test_seeded_catalogue_customers_and_checkout_options(store: DevStore) -> None:
    products = store.products()
    assert len(products) == 6
    assert sum(p["gift_card"] for p in products) == 1
    assert all(2**53 < v["id"] < 2**63 for p in products for v in p["variants"])
    assert len(store.customers()) == 6
    assert [(m.name, m.gateway) for m in store.payment_methods()][3] == (
        "Cash on Delivery (COD)", "Cash on Delivery (COD)")  # fmt: skip
    assert [d.method_type for d in store.delivery_options()] == [
        "SHIPPING", "SHIPPING", "PICK_UP", "LOCAL"]  # fmt: skip


def test_place_order_queues_create_then_paid(store: DevStore) -> None:
    customer = store.customers()[0]
    order = store.place_order(
        customer_id=customer["id"],
        items=[(_variant(store, "Sencha Green Tea"), 2), (_variant(store, "Kanta Gift Card"), 1)],
        payment_method="Shop Pay",
        delivery_option="Express",
    )
    events = store.pending_webhooks()
    assert [e.topic for e in events] == ["orders/create", "orders/paid"]
    assert events[0].payload == order
    assert order["name"] == "#1001"
    assert order["customer"]["email"] == customer["email"]
    assert order["payment_gateway_names"] == ["shopify_payments"]
    assert order["payment_details"]["credit_card_wallet"] == "shop_pay"
    assert order["shipping_lines"][0]["title"] == "Express"
    assert order["shipping_lines"][0]["price"] == "14.90"
    # 2 × 12.50 taxed at 8 %, gift card untaxed, plus shipping.
    assert order["total_price"] == str(Decimal("25.00") + Decimal("2.00") + 25 + Decimal("14.90"))


def test_a_call_returns_only_once_earlier_webhooks_reached_the_sink(store: DevStore) -> None:
    """Another thread's flush may take this call's webhooks from the outbox: the call waits until
    that thread has handed them over (the demo's webhook sender saw an order placed by a test
    only after the test had already found the delivery log empty)."""
    mug = _variant(store, "Ceramic Mug")
    order = {"customer_id": None, "items": [(mug, 1)], "payment_method": "Credit card",
             "delivery_option": "Standard"}  # fmt: skip
    store.place_order(**order)  # queued: no sink yet
    handed: list[str] = []
    inside, release = threading.Event(), threading.Event()

    def sink(topic: str, _shop: str, _payload: object) -> None:
        if threading.current_thread().name == "slow-flush":
            inside.set()
            release.wait(10)
        handed.append(topic)

    slow = threading.Thread(target=store.connect_webhooks, args=(sink,), name="slow-flush")
    slow.start()
    assert inside.wait(10)  # the other thread took the first order's webhooks
    placing = threading.Thread(target=store.place_order, kwargs=order)
    placing.start()
    placing.join(0.3)
    assert placing.is_alive()  # waits for the hand-over in flight
    release.set()
    placing.join(10)
    slow.join(10)
    assert handed == ["orders/create", "orders/paid"] * 2


def test_pickup_pos_guest_and_test_orders(store: DevStore) -> None:
    mug = _variant(store, "Ceramic Mug")
    pickup = store.place_order(customer_id=None, items=[(mug, 1)],
                               payment_method="Cash on Delivery (COD)",
                               delivery_option="Free pickup in store")  # fmt: skip
    line = pickup["shipping_lines"][0]
    assert (line["source"], line["delivery_category"], line["price"]) == (
        "shopify",
        "pick-up",
        "0.00",
    )
    assert pickup["customer"] is None
    assert pickup["payment_gateway_names"] == ["Cash on Delivery (COD)"]
    pos = store.place_order(customer_id=None, items=[(mug, 1)], payment_method="Credit card",
                            delivery_option="Standard", source_name="pos")  # fmt: skip
    assert pos["shipping_lines"] == []
    assert pos["location_id"] is not None
    test = store.place_order(customer_id=None, items=[(mug, 1)], payment_method="PayPal",
                             delivery_option=None, test=True)  # fmt: skip
    assert test["test"] is True
    assert test["payment_gateway_names"] == ["bogus"]


def test_refund_cancel_and_fulfil(store: DevStore) -> None:
    customer = store.customers()[1]
    order = store.place_order(
        customer_id=customer["id"],
        items=[(_variant(store, "Sencha Green Tea"), 2), (_variant(store, "Ceramic Mug"), 1)],
        payment_method="Credit card", delivery_option="Standard",
    )  # fmt: skip
    store.pending_webhooks()
    tea = order["line_items"][0]
    refund = store.refund_order(order["id"], [(tea["id"], 1)], Decimal("4.90"))
    assert [e.topic for e in store.pending_webhooks()] == ["refunds/create", "orders/updated"]
    assert refund["refund_line_items"][0]["subtotal"] == 12.5
    assert store.order(order["id"])["financial_status"] == "partially_refunded"
    with pytest.raises(ValueError, match="shipping"):
        store.refund_order(order["id"], [], Decimal("1"))

    store.fulfill_order(order["id"])
    assert [e.topic for e in store.pending_webhooks()] == ["orders/fulfilled"]

    cancelled = store.cancel_order(order["id"])
    events = store.pending_webhooks()
    assert [e.topic for e in events] == ["refunds/create", "orders/cancelled"]
    remainder = events[0].payload
    assert {(r["line_item_id"], r["quantity"]) for r in remainder["refund_line_items"]} == {
        (tea["id"], 1), (order["line_items"][1]["id"], 1)}  # fmt: skip
    assert remainder["refund_line_items"][0]["restock_type"] == "cancel"
    assert cancelled["financial_status"] == "refunded"
    assert cancelled["current_total_price"] == "0.00"
    refunded = sum(Decimal(t["amount"]) for r in cancelled["refunds"] for t in r["transactions"])
    assert refunded == Decimal(order["total_price"])


def test_discount_code_created_by_the_app_applies_at_checkout(store: DevStore) -> None:
    customer = store.customers()[2]
    store.create_code_discount(SHOP, {
        "code": "KANTA-5OFF", "title": "Reward", "amount": "5.00", "percentage": None,
        "usage_limit": 1, "customer_ids": [customer["id"]], "starts_at": None, "ends_at": None,
        "applies_once_per_customer": True, "input": {}})  # fmt: skip
    order = store.place_order(customer_id=customer["id"],
                              items=[(_variant(store, "Cast Iron Teapot"), 1)],
                              payment_method="Credit card", delivery_option="Standard",
                              discount_code="kanta-5off")  # fmt: skip
    assert order["discount_codes"][0]["amount"] == "5.00"
    assert order["total_discounts"] == "5.00"
    with pytest.raises(ValueError, match="used up"):
        store.place_order(customer_id=customer["id"], items=[(_variant(store, "Bamboo Whisk"), 1)],
                          payment_method="Credit card", delivery_option=None,
                          discount_code="KANTA-5OFF")  # fmt: skip


def test_uninstall_and_compliance_topics(store: DevStore) -> None:
    customer = store.customers()[0]
    store.place_order(customer_id=customer["id"], items=[(_variant(store, "Bamboo Whisk"), 1)],
                      payment_method="Bank Deposit", delivery_option=None)  # fmt: skip
    store.pending_webhooks()
    store.request_customer_redact(customer["id"])
    store.request_customer_data(customer["id"])
    store.uninstall_app()
    store.request_shop_redact()
    events = store.pending_webhooks()
    assert [e.topic for e in events] == [
        "customers/redact", "customers/data_request", "app/uninstalled", "shop/redact"]  # fmt: skip
    assert len(events[0].payload["orders_to_redact"]) == 1
    assert events[2].payload["myshopify_domain"] == SHOP
    assert not store.is_installed()


def test_webhooks_reach_the_sink_after_commit(store: DevStore) -> None:
    seen: list[tuple[str, bool]] = []

    def sink(topic: str, shop: str, payload: dict[str, object]) -> None:
        committed = any(rec["order"]["id"] == payload["id"] for rec in store.orders(shop))
        seen.append((topic, committed))

    store.connect_webhooks(sink)
    store.place_order(
        customer_id=None,
        items=[(_variant(store, "Bamboo Whisk"), 1)],
        payment_method="PayPal",
        delivery_option="Standard",
    )
    assert seen == [("orders/create", True), ("orders/paid", True)]
    store.connect_webhooks(None)


def test_state_persists_and_is_shared_between_processes(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "devstore.json"
    first = DevStore(api_key=API_KEY, api_secret=API_SECRET, state_path=path, clock=clock)
    order = first.place_order(customer_id=first.customers()[0]["id"],
                              items=[(first.products()[0]["id"], 1)],
                              payment_method="Credit card", delivery_option="Standard")  # fmt: skip
    token = first.issue_access_token(SHOP, expiring=True)
    assert json.loads(path.read_text())["schema"] == 1
    assert not list(tmp_path.glob(".devstore-*.tmp"))

    second = DevStore(api_key=API_KEY, api_secret=API_SECRET, state_path=path, clock=clock)
    assert second.order(order["id"]) == order
    assert second.products() == first.products()  # seeded once, not again
    assert second.token_is_live(SHOP, token["access_token"])
    second.refund_order(order["id"], "all", Decimal("4.90"))
    assert first.order(order["id"])["financial_status"] == "refunded"  # first sees the change

"""The demo checkout applies a Function's operations as Shopify does, including what Shopify
drops: a wallet moved or renamed, and any change to a local delivery or local pickup option."""

from __future__ import annotations

from devstore.checkout_functions import (
    ShownDelivery,
    ShownPayment,
    apply_delivery_operations,
    apply_payment_operations,
)


def deliveries() -> list[ShownDelivery]:
    return [
        ShownDelivery("h-std", "Standard", "STANDARD", "4.90", "SHIPPING"),
        ShownDelivery("h-exp", "Express", "EXPRESS", "14.90", "SHIPPING"),
        ShownDelivery("h-pickup", "Free pickup in store", "PICKUP", "0.00", "PICK_UP"),
        ShownDelivery("h-local", "Local delivery", "LOCAL", "6.00", "LOCAL"),
    ]


def test_shipping_options_are_moved_renamed_and_hidden() -> None:
    shown = deliveries()
    ops = [
        {"deliveryOptionRename": {"deliveryOptionHandle": "h-exp", "title": "Express · usual"}},
        {"deliveryOptionMove": {"deliveryOptionHandle": "h-exp", "index": 0}},
        {"deliveryOptionHide": {"deliveryOptionHandle": "h-std"}},
    ]
    assert apply_delivery_operations(shown, ops) == []
    assert [(o.handle, o.title) for o in shown] == [
        ("h-exp", "Express · usual"),
        ("h-pickup", "Free pickup in store"),
        ("h-local", "Local delivery"),
    ]


def test_local_delivery_and_pickup_options_are_never_changed() -> None:
    shown = deliveries()
    ops = [
        {"deliveryOptionRename": {"deliveryOptionHandle": "h-local", "title": "Local · usual"}},
        {"deliveryOptionMove": {"deliveryOptionHandle": "h-pickup", "index": 0}},
        {"deliveryOptionHide": {"deliveryOptionHandle": "h-local"}},
    ]
    assert apply_delivery_operations(shown, ops) == ops
    assert shown == deliveries()


def test_a_wallet_may_be_hidden_but_never_moved_or_renamed() -> None:
    card = ShownPayment("p0", "Credit card")
    paypal = ShownPayment("p1", "PayPal")
    shop_pay = ShownPayment("p2", "Shop Pay", wallet=True)
    shown = [card, paypal, shop_pay]
    moves = [
        {"paymentMethodMove": {"paymentMethodId": "p2", "index": 0}},
        {"paymentMethodRename": {"paymentMethodId": "p2", "name": "Shop Pay · usual"}},
        {"paymentMethodMove": {"paymentMethodId": "p1", "index": 0}},
    ]
    assert apply_payment_operations(shown, moves) == moves[:2]
    assert shown == [paypal, card, shop_pay]
    assert apply_payment_operations(shown, [{"paymentMethodHide": {"paymentMethodId": "p2"}}]) == []
    assert shown == [paypal, card]

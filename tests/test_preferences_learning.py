"""Learning a shopper's usual choices from their last paid orders (plain rules, no database)."""

from __future__ import annotations

import pytest

from plugin.loyalty.payment_names import checkout_name_for_gateway
from plugin.loyalty.preferences import (
    Choice,
    PaidOrderChoices,
    PreferredCheckoutChoices,
    clean_choice,
    learn_choices,
)


def paid(
    gateway: str | None, title: str | None = "Standard", kind: str | None = "shipping"
) -> PaidOrderChoices:
    code = title.upper() if title else None
    return PaidOrderChoices(gateway, title, code, kind)


@pytest.mark.parametrize(
    ("gateway", "name"),
    [
        ("paypal", "PayPal"),
        ("shopify_payments", "Credit card"),
        ("Cash on Delivery (COD)", "Cash on Delivery (COD)"),
        ("Bank Deposit", "Bank Deposit"),
        ("shop_cash", None),
        ("gift_card", None),
        ("bogus", None),
        (None, None),
        ("  ", None),
    ],
)
def test_gateways_map_to_the_names_checkout_shows(gateway: str | None, name: str | None) -> None:
    assert checkout_name_for_gateway(gateway) == name


def test_the_most_frequent_of_the_last_five_wins() -> None:
    newest_first = [
        paid("shopify_payments"),
        paid("paypal"),
        paid("paypal"),
        paid("shopify_payments"),
        paid("paypal"),
    ]
    assert learn_choices(newest_first).payment == Choice("PayPal", "paypal")


def test_a_tie_goes_to_the_most_recent() -> None:
    newest_first = [
        paid("shopify_payments", "Express"),
        paid("paypal", "Standard"),
        paid("paypal", "Express"),
        paid("shopify_payments", "Standard"),
    ]
    learned = learn_choices(newest_first)
    assert learned.payment == Choice("Credit card", "shopify_payments")
    assert learned.delivery == Choice("Express", "EXPRESS")


def test_only_the_last_five_orders_count() -> None:
    newest_first = [paid("shopify_payments")] * 3 + [paid("paypal")] * 2 + [paid("paypal")] * 10
    assert learn_choices(newest_first).payment == Choice("Credit card", "shopify_payments")


def test_shop_cash_and_gift_cards_teach_nothing() -> None:
    learned = learn_choices([paid("shop_cash"), paid("gift_card"), paid("paypal")])
    assert learned.payment == Choice("PayPal", "paypal")
    assert learn_choices([paid("shop_cash")]).payment is None


def test_pos_and_pickup_orders_teach_no_delivery() -> None:
    learned = learn_choices(
        [
            paid("paypal", None, "pos"),
            paid("paypal", "Free pickup in store", "pickup"),
            paid("paypal", "Express"),
        ]
    )
    assert learned.delivery == Choice("Express", "EXPRESS")
    assert learn_choices([paid("paypal", "Free pickup in store", "pickup")]).delivery is None


def test_local_delivery_is_a_delivery_choice() -> None:
    assert learn_choices([paid("paypal", "Local delivery", "local")]).delivery == Choice(
        "Local delivery", "LOCAL DELIVERY"
    )


def test_no_orders_no_preferences() -> None:
    learned = learn_choices([])
    assert (learned.payment, learned.delivery) == (None, None)


def test_chosen_wins_per_kind_over_learned() -> None:
    rows = [
        ("payment", "learned", "PayPal"),
        ("payment", "chosen", "Bank Deposit"),
        ("delivery", "learned", "Express"),
    ]
    assert PreferredCheckoutChoices.resolve(rows) == PreferredCheckoutChoices(
        "Bank Deposit", "Express", "chosen"
    )
    assert PreferredCheckoutChoices.resolve(rows[:1]) == PreferredCheckoutChoices(
        "PayPal", None, "learned"
    )
    assert PreferredCheckoutChoices.resolve([]) == PreferredCheckoutChoices(None, None, None)


def test_a_choice_is_a_printable_name_or_null() -> None:
    assert clean_choice("  PayPal  ", "payment_method") == "PayPal"
    assert clean_choice(None, "payment_method") is None
    for bad in ("", "  ", 3, "x" * 256, "Pay\x00Pal"):
        with pytest.raises(ValueError, match="payment_method"):
            clean_choice(bad, "payment_method")

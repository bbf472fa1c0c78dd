"""Worked examples: the loyalty engine told as the stories of real shoppers.

Each story goes through the whole intake (a Shopify-shaped payload, signed, POSTed to
``/webhooks``) and then reads the ledger. Defaults: 1 point per 1.00 of eligible amount, rounded
down; Bronze 0 / Silver 500 / Gold 1,500 with multipliers 1, 1.25, 1.5.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from plugin import ledger
from plugin.models import Customer, LedgerEntry, Shop
from tests.conftest import SHOP, Clock, install_shop
from tests.story import Shopper, line


@pytest.fixture
def shopper(app: Flask, client: FlaskClient, shop: int) -> Shopper:
    return Shopper(app, client)


def set_program(app: Flask, **changes: Any) -> None:
    from plugin.loyalty.program import ProgramSettings

    k = app.extensions["kanta"]
    with k.db.transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        shop.program = ProgramSettings.from_dict({**shop.program, **changes}).to_dict()


def run_daily(app: Flask) -> dict[str, int]:
    from plugin.jobs import run_daily as daily

    return daily(app.extensions["kanta"])


def test_a_first_order_earns_one_point_per_unit_of_eligible_amount(shopper: Shopper) -> None:
    order = shopper.order(line("Mug", "40.00", 2), line("Tea", "20.50"), shipping=Decimal("4.90"))
    shopper.pays(order)

    assert shopper.points == 100  # 100.50 of goods, rounded down; shipping does not count
    assert shopper.state()["member"] is True
    (award,) = shopper.entries()
    assert award.kind == "order_award"
    assert award.source == "order"
    assert award.shopify_order_id == order["id"]
    assert award.details["eligible_amount"] == "100.50"
    assert award.details["earn_rate"] == "1"
    assert award.details["multiplier"] == "1"
    assert award.details["tier"] == "bronze"


def test_refunds_reverse_in_proportion_and_a_full_refund_reverses_exactly(
    shopper: Shopper,
) -> None:
    order = shopper.order(line("Candle", "33.33", 3))
    shopper.pays(order)
    assert shopper.points == 99  # 99.99 → 99

    shopper.refunds(order, (0, 1))  # a third back: 99 × 33.33 / 99.99 = 32.997 → 33
    assert shopper.points == 66
    shopper.refunds(order, (0, 1))  # two thirds in all: 65.993 → 66, so 33 more
    assert shopper.points == 33
    shopper.refunds(order, (0, 1))  # everything: exactly what was earned
    assert shopper.points == 0
    assert [e.points for e in shopper.entries()] == [99, -33, -33, -33]


def test_cancellation_reverses_whatever_is_left(shopper: Shopper) -> None:
    order = shopper.order(line("Lamp", "60.00"), line("Bulb", "40.00"))
    shopper.pays(order)
    shopper.refunds(order, (1, 1))
    assert shopper.points == 60

    shopper.cancels(order)
    assert shopper.points == 0
    assert shopper.ledger()[-1] == ("cancellation_reversal", -60, 0)
    # Shopify also sends the cancellation's refund: nothing is left to reverse, and the
    # merchant's ledger shows no 0-point row for it (the refund stays on the order's events).
    shopper.refunds(order, (0, 1))
    assert shopper.points == 0
    assert [kind for kind, _, _ in shopper.ledger()] == [
        "order_award",
        "refund_reversal",
        "cancellation_reversal",
    ]


def test_tier_up_then_the_next_order_earns_with_the_new_multiplier(shopper: Shopper) -> None:
    shopper.pays(shopper.order(line("Coat", "480.00")))
    assert (shopper.points, shopper.tier) == (480, "bronze")

    # Paid at Bronze: this order earns ×1, then its own points lift the shopper to Silver.
    shopper.pays(shopper.order(line("Scarf", "40.00")))
    assert (shopper.points, shopper.tier) == (520, "silver")

    shopper.pays(shopper.order(line("Boots", "100.00")))
    assert shopper.points == 645  # 100 × 1.25
    assert shopper.entries()[-1].details["multiplier"] == "1.25"


def test_a_refund_that_drops_below_a_threshold_downgrades_at_once(shopper: Shopper) -> None:
    coat = shopper.order(line("Coat", "500.00"))
    shopper.pays(coat)
    shopper.pays(shopper.order(line("Boots", "100.00")))
    assert (shopper.points, shopper.tier) == (625, "silver")

    shopper.refunds(coat, (0, 1))
    assert (shopper.points, shopper.tier) == (125, "bronze")
    # The boots keep the multiplier they were paid with: a later refund uses the stored 1.25.
    assert shopper.entries()[1].details["multiplier"] == "1.25"


def test_pending_points_become_available_after_the_pending_period(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    set_program(app, pending_days=14)
    order = shopper.order(line("Chair", "100.00"))
    shopper.pays(order)
    assert (shopper.points, shopper.pending) == (0, 100)
    assert shopper.tier == "bronze"

    clock.advance(days=5)
    set_program(app, pending_days=0)  # later edits never touch this order's pending period
    second = shopper.order(line("Cushion", "30.00", 2))
    shopper.pays(second)
    shopper.refunds(second, (0, 1))
    assert (shopper.points, shopper.pending) == (30, 100)

    clock.advance(days=9)
    assert run_daily(app)["released"] == 1
    assert (shopper.points, shopper.pending) == (130, 0)
    assert shopper.ledger()[-1] == ("pending_release", 100, -100)
    assert run_daily(app)["released"] == 0  # the job can run again: nothing twice


def test_a_refund_while_pending_takes_from_pending_points_first(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    set_program(app, pending_days=7)
    order = shopper.order(line("Shoes", "80.00"), line("Socks", "20.00"))
    shopper.pays(order)
    shopper.refunds(order, (1, 1))
    assert (shopper.points, shopper.pending) == (0, 80)
    assert shopper.ledger()[-1] == ("refund_reversal", 0, -20)

    clock.advance(days=7)
    run_daily(app)
    shopper.refunds(order, (0, 1))
    assert (shopper.points, shopper.pending) == (0, 0)
    assert shopper.ledger()[-1] == ("refund_reversal", -80, 0)


def test_points_expire_after_a_period_without_earning_or_redeeming(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    set_program(app, expiry_days=30)
    shopper.pays(shopper.order(line("Kettle", "70.00")))
    clock.advance(days=25)
    shopper.pays(shopper.order(line("Filter", "10.00")))  # earning resets the clock
    clock.advance(days=29)
    assert run_daily(app)["expired"] == 0
    assert shopper.points == 80

    clock.advance(days=2)
    assert run_daily(app)["expired"] == 1
    assert shopper.points == 0
    assert shopper.ledger()[-1][:2] == ("expiry", -80)
    assert run_daily(app)["expired"] == 0


def test_expiry_is_off_by_default(app: Flask, shopper: Shopper, clock: Clock) -> None:
    shopper.pays(shopper.order(line("Kettle", "70.00")))
    clock.advance(days=3000)
    run_daily(app)
    assert shopper.points == 70


def test_a_pos_order_earns_exactly_like_an_online_one(shopper: Shopper) -> None:
    shopper.pays(shopper.order(line("Mug", "25.00", 2), source_name="pos", shipping_title=None))
    shopper.pays(shopper.order(line("Mug", "25.00", 2)))
    assert shopper.points == 100  # one balance across channels
    assert [e.details["channel"] for e in shopper.entries()] == ["pos", "web"]


def test_a_test_order_never_earns(shopper: Shopper) -> None:
    order = shopper.order(line("Mug", "25.00"), test=True)
    shopper.pays(order)
    shopper.refunds(order, (0, 1))
    assert shopper.points == 0
    assert shopper.entries() == []


def test_an_order_without_a_customer_earns_nothing(app: Flask, shopper: Shopper) -> None:
    shopper.pays(shopper.order(line("Mug", "25.00"), customer=None))
    with app.extensions["kanta"].db.read() as session:
        assert session.scalars(select(LedgerEntry)).all() == []


def test_gift_card_lines_do_not_earn(shopper: Shopper) -> None:
    order = shopper.order(line("Mug", "40.00"), line("Gift card", "50.00", gift_card=True))
    shopper.pays(order)
    assert shopper.points == 40
    shopper.refunds(order, (1, 1))  # refunding the gift card reverses nothing
    assert shopper.points == 40


def test_the_shoppers_currency_never_changes_the_points(shopper: Shopper) -> None:
    order = shopper.order(
        line("Mug", "40.00"),
        line("Tea", "60.00"),
        presentment_currency="JPY",
        exchange_rate=Decimal("151.37"),
    )
    assert order["presentment_currency"] == "JPY"
    shopper.pays(order)
    assert shopper.points == 100  # from shop_money, not 15,137 "yen points"


def test_a_tax_inclusive_shop_takes_the_tax_out(shopper: Shopper) -> None:
    order = shopper.order(line("Jacket", "120.00"), taxes_included=True, tax_rate=Decimal("0.20"))
    shopper.pays(order)
    assert shopper.points == 100  # 120.00 includes 20.00 VAT


def test_options_can_count_tax_and_shipping(app: Flask, shopper: Shopper) -> None:
    set_program(app, include_tax=True, include_shipping=True, earn_rate="2")
    order = shopper.order(line("Jacket", "100.00"), tax_rate=Decimal("0.10"), shipping=Decimal("5"))
    shopper.pays(order)
    assert shopper.points == 230  # (100 + 10 tax + 5 shipping) × 2


def test_discounts_count_after_every_discount_and_tips_never(shopper: Shopper) -> None:
    order = shopper.order(
        line("Lamp", "60.00", discount=Decimal("6.00")),
        line("Bulb", "40.00"),
        order_discount=Decimal("10.00"),
        tip=Decimal("5.00"),
        shipping=Decimal("4.90"),
    )
    shopper.pays(order)
    assert shopper.points == 84  # 100 − 6 (line) − 10 (order) = 84; tip and shipping excluded


def test_a_shipping_only_refund_reverses_nothing(shopper: Shopper) -> None:
    order = shopper.order(line("Lamp", "60.00"), shipping=Decimal("9.90"))
    shopper.pays(order)
    shopper.refunds(order, shipping="9.90")
    assert shopper.points == 60
    assert shopper.ledger() == [("order_award", 60, 0)]  # no 0-point row


def test_a_refund_after_points_were_spent_leaves_a_negative_balance(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    order = shopper.order(line("Lamp", "100.00"))
    shopper.pays(order)
    k = app.extensions["kanta"]
    with k.db.transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        customer = session.scalars(select(Customer)).one()
        ledger.adjust_points(
            session, shop, customer.id, -80, "spent in store", "staff", "k1", clock()
        )
    shopper.refunds(order, (0, 1))
    assert shopper.points == -80  # paid back by later earnings
    shopper.pays(shopper.order(line("Bulb", "100.00")))
    assert shopper.points == 20


def test_a_refund_that_arrives_before_its_order_is_applied_when_the_order_is_paid(
    shopper: Shopper,
) -> None:
    order = shopper.order(line("Candle", "33.33", 3))
    shopper.refunds(order, (0, 1))
    assert shopper.entries() == []

    shopper.pays(order)
    assert shopper.ledger() == [("order_award", 99, 0), ("refund_reversal", -33, 0)]


def test_a_cancellation_that_arrives_first_still_nets_to_zero(shopper: Shopper) -> None:
    order = shopper.order(line("Candle", "50.00"))
    shopper.cancels(order)
    shopper.pays(order)
    assert shopper.ledger() == [("order_award", 50, 0), ("cancellation_reversal", -50, 0)]


def test_reversals_use_the_rate_stored_on_the_award_not_the_current_one(
    app: Flask, shopper: Shopper
) -> None:
    order = shopper.order(line("Lamp", "100.00"))
    shopper.pays(order)
    set_program(app, earn_rate="3")
    shopper.refunds(order, (0, 1))
    assert shopper.points == 0  # 100 reversed, not 300


def test_tier_points_age_out_of_the_rolling_window(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    shopper.pays(shopper.order(line("Sofa", "1600.00")))
    assert shopper.tier == "gold"
    clock.advance(days=364)
    run_daily(app)
    assert shopper.tier == "gold"
    clock.advance(days=2)
    assert run_daily(app)["tiers_changed"] == 1
    assert shopper.tier == "bronze"
    assert shopper.points == 1600  # the points stay; only the tier's window moved


def test_a_refund_of_an_order_outside_the_window_does_not_count_twice(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    old = shopper.order(line("Sofa", "600.00"))
    shopper.pays(old)
    clock.advance(days=400)
    run_daily(app)
    shopper.pays(shopper.order(line("Chair", "550.00")))
    assert shopper.tier == "silver"
    shopper.refunds(old, (0, 1))  # the sofa's points already aged out of the tier window
    assert shopper.state()["tier_points"] == 550
    assert shopper.tier == "silver"


def test_manual_adjustments_need_a_reason_and_count_once(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    shopper.pays(shopper.order(line("Lamp", "10.00")))
    k = app.extensions["kanta"]
    with k.db.transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        customer_id = session.scalars(select(Customer.id)).one()
        with pytest.raises(ledger.LedgerError, match="reason"):
            ledger.adjust_points(session, shop, customer_id, 50, "  ", "staff", "a", clock())
        for _ in range(2):  # a resubmitted form
            ledger.adjust_points(session, shop, customer_id, 50, "Birthday", "staff", "b", clock())
    assert shopper.points == 60
    assert shopper.entries()[-1].reason == "Birthday"


def test_another_shops_orders_never_touch_this_shop(app: Flask, client: FlaskClient) -> None:
    install_shop(app, SHOP)
    install_shop(app, "shop-two.myshopify.com")
    here = Shopper(app, client, SHOP, customer_id=42_000_000_000_000_001)
    there = Shopper(app, client, "shop-two.myshopify.com", customer_id=42_000_000_000_000_001)
    here.pays(here.order(line("Lamp", "10.00")))
    there.pays(there.order(line("Lamp", "30.00")))
    assert (here.points, there.points) == (10, 30)


def test_ledger_verify_reports_a_projection_that_disagrees(app: Flask, shopper: Shopper) -> None:
    shopper.pays(shopper.order(line("Lamp", "10.00")))
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["ledger", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "ledger ok" in ok.output

    with app.extensions["kanta"].db.transaction() as session:
        session.execute(update(Customer).values(points_balance=Customer.points_balance + 5))
    bad = runner.invoke(args=["ledger", "verify"])
    assert bad.exit_code == 1
    assert "points_balance: stored 15, ledger 10" in bad.output


def test_a_shop_can_award_on_fulfilment_instead_of_payment(app: Flask, shopper: Shopper) -> None:
    set_program(app, award_on="fulfilled")
    order = shopper.order(line("Desk", "250.00"))
    shopper.pays(order)
    assert shopper.entries() == []
    shopper.send("orders/fulfilled", order)
    assert shopper.points == 250
    shopper.send("orders/fulfilled", order)  # a second subscription's delivery: once only
    assert shopper.points == 250


def test_a_credit_after_an_expiry_starts_a_new_inactivity_period(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    set_program(app, expiry_days=30)
    shopper.pays(shopper.order(line("Kettle", "70.00")))
    clock.advance(days=31)
    assert run_daily(app)["expired"] == 1
    k = app.extensions["kanta"]
    with k.db.transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        customer_id = session.scalars(select(Customer.id)).one()
        ledger.adjust_points(session, shop, customer_id, 20, "goodwill", "staff", "g", clock())
    for _ in range(2):
        result = run_daily(app)
        assert (result["expired"], result["shops_failed"]) == (0, 0)
    assert shopper.points == 20
    clock.advance(days=31)
    assert run_daily(app)["expired"] == 1
    assert [kind for kind, _, _ in shopper.ledger()].count("expiry") == 2


def test_one_shops_failing_daily_job_does_not_stop_the_others(
    app: Flask, client: FlaskClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_shop(app, SHOP, program={"pending_days": 1})
    install_shop(app, "shop-two.myshopify.com", program={"pending_days": 1})
    here = Shopper(app, client, SHOP)
    there = Shopper(app, client, "shop-two.myshopify.com")
    here.pays(here.order(line("Lamp", "10.00")))
    there.pays(there.order(line("Lamp", "30.00")))
    clock.advance(days=2)

    real = ledger.expire_inactive_points

    def broken_for_shop_one(session: Any, shop: Shop, now: Any) -> int:
        if shop.domain == SHOP:
            raise RuntimeError("boom")
        return real(session, shop, now)

    monkeypatch.setattr(ledger, "expire_inactive_points", broken_for_shop_one)
    result = run_daily(app)
    assert result["shops_failed"] == 1
    assert (here.points, here.pending) == (0, 10)  # rolled back, tried again tomorrow
    assert (there.points, there.pending) == (30, 0)
    monkeypatch.setattr(ledger, "expire_inactive_points", real)
    assert run_daily(app)["shops_failed"] == 0
    assert (here.points, here.pending) == (10, 0)


def test_points_stay_with_who_earned_them_when_the_merchant_changes_the_orders_customer(
    app: Flask, client: FlaskClient, shop: int
) -> None:
    ada = Shopper(app, client, customer_id=71_000_000_000_000_001)
    bea = Shopper(app, client, customer_id=71_000_000_000_000_002, email="bea@example.com")
    order = ada.order(line("Lamp", "100.00"))
    ada.pays(order)
    edited = bea.order(line("Lamp", "100.00"), order_id=order["id"])  # now names Bea
    bea.send("orders/updated", edited)
    ada.refunds(order, (0, 1))
    assert (ada.points, bea.points) == (0, 0)
    assert ada.ledger() == [("order_award", 100, 0), ("refund_reversal", -100, 0)]
    assert bea.entries() == []


def test_refunding_every_unit_one_by_one_reverses_exactly_the_award(
    app: Flask, shopper: Shopper
) -> None:
    # 10 points per 1.00; three 5.00 items share a 5.00 order discount: 10.00 eligible, each unit
    # 3.33… — adding rounded cents per refund would leave a point behind.
    set_program(app, earn_rate="100")
    order = shopper.order(line("Card", "5.00", 3), order_discount=Decimal("5.00"))
    shopper.pays(order)
    assert shopper.points == 1000
    for _ in range(3):
        shopper.refunds(order, (0, 1))
    assert shopper.points == 0
    assert [p for _, p, _ in shopper.ledger()] == [1000, -333, -334, -333]


def test_ledger_verify_agrees_before_and_after_the_daily_job_ages_tiers(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    shopper.pays(shopper.order(line("Sofa", "600.00")))
    clock.advance(days=400)  # aged out, but the daily job has not run yet
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    run_daily(app)
    assert shopper.state()["tier_points"] == 0
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_two_orders_of_one_customer_in_one_unit_of_work_both_count(
    app: Flask, shopper: Shopper, clock: Clock
) -> None:
    """Imports and jobs may record several orders in one transaction: the second must not
    overwrite the first's unflushed changes to the customer."""
    from plugin.loyalty.orders import parse_order

    k = app.extensions["kanta"]
    with k.db.transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        for price in ("30.00", "20.00"):
            facts = parse_order(shopper.order(line("Mug", price)))
            ledger.record_order(session, shop, facts, "paid", clock())
    assert shopper.points == 50
    assert app.test_cli_runner().invoke(args=["ledger", "verify"]).exit_code == 0


def test_an_award_snapshot_without_refunded_quantities_is_rebuilt_from_applied_refunds(
    app: Flask, shopper: Shopper
) -> None:
    """Orders awarded before refunded quantities were kept (migration-era data) still net to
    exactly zero when their last unit comes back."""
    from plugin.models import Order

    order = shopper.order(line("Lamp", "50.00"), line("Bulb", "50.00"))
    shopper.pays(order)
    shopper.refunds(order, (0, 1))
    with app.extensions["kanta"].db.transaction() as session:
        row = session.scalars(select(Order).where(Order.shopify_order_id == order["id"])).one()
        assert row.facts is not None
        row.facts = {k: v for k, v in row.facts.items() if not k.startswith("refunded")}
    shopper.refunds(order, (1, 1))
    assert shopper.points == 0
    assert shopper.ledger() == [
        ("order_award", 100, 0),
        ("refund_reversal", -50, 0),
        ("refund_reversal", -50, 0),
    ]

"""Analytics checked figure by figure against values computed by hand for one seeded story.

The story (program: 1 point per 1.00, default tiers Bronze 0 / Silver 500 ×1.25, welcome bonus
100, members join explicitly — ``auto_enroll`` off — and points expire after 14 days without
activity). The period is Monday 2026-03-02 to Sunday 2026-03-15: two weeks.

  02-23  Ada joins (+100 welcome), pays A0 460.00 (+460)           before the period
         Fay joins (+100 welcome), then does nothing                before the period
  03-02  Ada pays A1 120.00 with PayPal (+120, Bronze → Silver at 580 tier points)
         Dan (not a member) pays D1 30.00 by card: no points
         a guest pays G1 40.00 with Shop Pay
  03-03  Bea joins (+100), pays B1 80.00 with Shop Pay, delivery "Express" (+80)
  03-04  Ada's test order T1 100.00: left out of everything
  03-05  adjustments: Ada +25, Bea −10
  03-09  Ada pays A2 60.00 by card at Silver (+75); Dan pays D2 20.00 by bank deposit
         Bea pays B2 10.00 (+10) …
  03-10  … which is cancelled (−10 reversed); Ada redeems 200; Bea redeems 100, which fails
         and is given back (+100)
  03-11  Eve (not a member yet) pays E1 45.00 by card
  03-12  the daily job expires Fay's 100 (no activity since 02-23, 17 days > 14)
  03-16  Ada pays A3 70.00 (+87), Eve joins (+100)                 after the period

Remembered choices: Ada's payment "PayPal" set 03-01; Dan's payment "Bank Deposit" set 03-05;
Bea's delivery "Express" set 03-02. The shop is on Shopify's Basic plan in the US (not Plus).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from devstore.payloads import build_cancelled_order
from plugin import ledger
from plugin.ledger import Change
from plugin.loyalty.orders import CustomerFacts
from plugin.models import Customer, CustomerPreference, Order, Reward, Shop
from tests.conftest import OTHER_SHOP, SHOP, Clock, install_shop
from tests.story import Shopper, line
from tests.test_member_api import bearer

PROGRAM = {"auto_enroll": False, "expiry_days": 14, "welcome_bonus": 100}


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(f"2026-{day}T{hour:02d}:00:00+00:00")


class Story:
    def __init__(self, app: Flask, client: FlaskClient, clock: Clock) -> None:
        self.app, self.client, self.clock = app, client, clock
        self.kanta = app.extensions["kanta"]
        self.people: dict[str, Shopper] = {}
        for n, name in enumerate(("ada", "bea", "dan", "eve", "fay")):
            self.people[name] = Shopper(
                app, client, customer_id=81_000_000_000_000_001 + n, email=f"{name}@example.com"
            )

    def on(self, day: str, hour: int = 12) -> None:
        self.clock.now = at(day, hour)

    def pays(self, who: str | None, total: str, method: str, **kwargs: Any) -> dict[str, Any]:
        payer = self.people[who] if who else Shopper(self.app, self.client)
        order = payer.order(line("Tea", total), **({} if who else {"customer": None}), **kwargs)
        payer.send("orders/create", order)
        payer.pays(order)
        delivery = kwargs.get("shipping_title")
        with self.kanta.db.transaction() as session:
            # What the checkout branch reads from the payment details: set directly here.
            session.execute(
                update(Order)
                .where(Order.shopify_order_id == order["id"])
                .values(payment_method_name=method, delivery_title=delivery)
            )
        return order

    def joins(self, who: str) -> None:
        shopper = self.people[who]
        facts = CustomerFacts(shopper.customer_id, shopper.email, who.title(), "Example")
        with self.kanta.db.transaction() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
            ledger.join_program(session, shop, facts, True, self.kanta.now())

    def ledger_entry(self, who: str, kind: str, points: int, key: str) -> None:
        with self.kanta.db.transaction() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
            customer = self.customer(session, who)
            ledger.append(
                session,
                shop,
                ledger.program_of(shop),
                customer,
                Change(kind=kind, source="reward", key=key, points=points),
                self.kanta.now(),
            )

    def adjusts(self, who: str, points: int) -> None:
        with self.kanta.db.transaction() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
            customer = self.customer(session, who)
            ledger.adjust_points(
                session,
                shop,
                customer.id,
                points,
                "goodwill",
                "staff",
                f"{who}{points}",
                at("03-05"),
            )

    def prefers(self, who: str, kind: str, value: str, day: str) -> None:
        with self.kanta.db.transaction() as session:
            shop_id = session.scalars(select(Shop.id).where(Shop.domain == SHOP)).one()
            customer = self.customer(session, who)
            session.add(
                CustomerPreference(
                    shop_id=shop_id,
                    customer_id=customer.id,
                    kind=kind,
                    source="chosen",
                    value=value,
                    updated_at=at(day),
                )
            )

    def customer(self, session: Any, who: str) -> Customer:
        return session.scalars(
            select(Customer).where(
                Customer.shopify_customer_id == self.people[who].customer_id,
                Customer.shop_id == select(Shop.id).where(Shop.domain == SHOP).scalar_subquery(),
            )
        ).one()


def seed(app: Flask, client: FlaskClient, clock: Clock) -> Story:
    shop_id = install_shop(app, program=PROGRAM)
    s = Story(app, client, clock)
    with s.kanta.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        shop.plan_display_name, shop.plan_shopify_plus, shop.country_code = "Basic", False, "US"
        shop.shop_facts_synced_at = at("03-01")
        for title, cost, kind, value, active in (
            ("$5 off", 500, "fixed_amount", "5.00", True),  # 0.01 per point: the cheapest
            ("$12 off", 1000, "fixed_amount", "12.00", True),  # 0.012 per point
            ("10% off", 300, "percentage", "10", True),  # no fixed value: not a rate
            ("$50 off", 100, "fixed_amount", "50.00", False),  # inactive: ignored
        ):
            session.add(
                Reward(
                    shop_id=shop_id,
                    title=title,
                    points_cost=cost,
                    reward_type=kind,
                    value=Decimal(value),
                    active=active,
                )
            )
    s.on("02-23")
    s.joins("ada")
    s.pays("ada", "460.00", "Credit card")
    s.joins("fay")
    s.on("03-01")
    s.prefers("ada", "payment", "PayPal", "03-01")
    s.on("03-02")
    s.pays("ada", "120.00", "PayPal")
    s.pays("dan", "30.00", "Credit card")
    s.pays(None, "40.00", "Shop Pay")
    s.on("03-03")
    s.joins("bea")
    s.prefers("bea", "delivery", "Express", "03-02")
    s.pays("bea", "80.00", "Shop Pay", shipping_title="Express")
    s.on("03-04")
    s.pays("ada", "100.00", "PayPal", test=True)
    s.on("03-05")
    s.adjusts("ada", 25)
    s.adjusts("bea", -10)
    s.prefers("dan", "payment", "Bank Deposit", "03-05")
    s.on("03-09")
    s.pays("ada", "60.00", "Credit card")
    s.pays("dan", "20.00", "Bank Deposit")
    b2 = s.pays("bea", "10.00", "Shop Pay")
    s.on("03-10")
    s.people["bea"].send("orders/cancelled", build_cancelled_order(b2))
    s.ledger_entry("ada", "redemption", -200, "redeem:ada:1")
    s.ledger_entry("bea", "redemption", -100, "redeem:bea:1")
    s.ledger_entry("bea", "redemption_refund", 100, "redeem:bea:1:refund")
    s.on("03-11")
    s.pays("eve", "45.00", "Credit card")
    s.on("03-12", 3)
    s.kanta.jobs.enqueue("daily")
    s.on("03-16")
    s.pays("ada", "70.00", "PayPal")
    s.joins("eve")
    return s


def test_every_figure_matches_the_hand_computed_value(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    seed(app, client, clock)
    clock.now = at("03-20")
    response = client.get("/api/admin/analytics?from=2026-03-02&to=2026-03-15", headers=bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()

    # Issued in the period: A1 120 + Bea's welcome 100 + B1 80 + Ada's +25 (week of 03-02:
    # 325), A2 60 × 1.25 = 75 + B2 10 (week of 03-09: 85). Ada's and Fay's welcome bonuses
    # and A0 are before it; A3 and Eve's welcome after it.
    assert body["points_issued"] == 410
    # Redeemed: Ada 200 + Bea 100 − Bea's 100 given back.
    assert body["points_redeemed"] == 200
    # Expired: Fay's 100 on 03-12.
    assert body["points_expired"] == 100
    # Reversed: B2's 10 on its cancellation; deducted: Bea's −10; nothing imported.
    assert (body["points_reversed"], body["points_deducted"], body["points_imported"]) == (
        10,
        10,
        0,
    )
    assert body["weeks"] == [
        {"week": "2026-03-02", "issued": 325, "redeemed": 0, "expired": 0, "reversed": 0,
         "deducted": 10, "imported": 0},
        {"week": "2026-03-09", "issued": 85, "redeemed": 200, "expired": 100, "reversed": 10,
         "deducted": 0, "imported": 0},
    ]  # fmt: skip
    # Balances when the period ends: Ada 100 + 460 + 120 + 25 + 75 − 200 = 580; Bea 100 + 80
    # − 10 + 10 − 10 − 100 + 100 = 170; Fay 100 − 100 = 0; Dan and Eve 0. 580 + 170 = 750.
    assert body["outstanding_points"] == 750
    # At the cheapest fixed-value reward, $5 for 500 points = 0.01 per point: 750 × 0.01.
    assert body["liability"] == {"amount": "7.50", "currency": "USD", "reward": "$5 off"}
    # 200 ÷ 410 = 0.48780… → 0.4878.
    assert body["redemption_rate"] == "0.4878"
    # Members at the end of the period: Ada (A1 120, A2 60) and Bea (B1 80; B2 cancelled):
    # 3 orders, 260.00; AOV 260 ÷ 3 = 86.666… → 86.67; 3 ÷ 2 = 1.50 orders per customer; Ada
    # has 2 orders: 1 ÷ 2 = 0.5000 repeat.
    assert body["members"] == {
        "customers": 2,
        "orders": 3,
        "revenue": "260.00",
        "aov": "86.67",
        "orders_per_customer": "1.50",
        "repeat_rate": "0.5000",
    }
    # Everyone else: Dan (D1 30, D2 20), Eve (E1 45; she joined after the period), the guest
    # (G1 40, one customer): 4 orders, 135.00; 135 ÷ 4 = 33.75; 4 ÷ 3 = 1.333… → 1.33; only
    # Dan repeats: 1 ÷ 3 = 0.3333. The test order T1 is nowhere.
    assert body["non_members"] == {
        "customers": 3,
        "orders": 4,
        "revenue": "135.00",
        "aov": "33.75",
        "orders_per_customer": "1.33",
        "repeat_rate": "0.3333",
    }
    # Payment: orders placed while a preference was held — Ada's A1 and A2 (PayPal since
    # 03-01), Dan's D2 (Bank Deposit since 03-05; D1 came before it): 3; A1 and D2 used it.
    # Delivery: Bea's B1 (Express since 03-02) used it; B2 is cancelled.
    assert body["remembered_choices"] == {
        "payment": {"orders_with_preference": 3, "orders_using_it": 2, "share": "0.6667"},
        "delivery": {"orders_with_preference": 1, "orders_using_it": 1, "share": "1.0000"},
    }
    # Members now: Ada (tier points 460 + 120 + 75 + 87 = 742: Silver), Bea (80 + 10 − 10:
    # Bronze), Fay (0: Bronze), Eve (joined 03-16: Bronze).
    assert body["tiers"] == [
        {"key": "bronze", "name": "Bronze", "members": 3},
        {"key": "silver", "name": "Silver", "members": 1},
        {"key": "gold", "name": "Gold", "members": 0},
    ]
    # Reach on a US Basic shop: card (A2, D1, E1) and Shop Pay (B1, G1) cannot be moved,
    # PayPal (A1) and Bank Deposit (D2) can: 2 of 7 orders → 0.2857.
    reach = body["reach"]
    assert (reach["plan"], reach["shopify_plus"], reach["country"]) == ("Basic", False, "US")
    assert [(m["name"], m["orders"], m["movable"]) for m in reach["payment_methods"]] == [
        ("Credit card", 3, "no"),
        ("Shop Pay", 2, "no"),
        ("Bank Deposit", 1, "yes"),
        ("PayPal", 1, "yes"),
    ]
    assert reach["movable_share"] == "0.2857"
    assert set(body["definitions"]) >= {"points_issued", "liability", "aov", "repeat_rate"}


def test_a_shop_sees_only_its_own_figures(app: Flask, client: FlaskClient, clock: Clock) -> None:
    seed(app, client, clock)
    install_shop(app, OTHER_SHOP)
    response = client.get(
        "/api/admin/analytics?from=2026-02-01&to=2026-03-31", headers=bearer(OTHER_SHOP)
    )
    body = response.get_json()
    assert response.status_code == 200
    assert (body["points_issued"], body["outstanding_points"], body["liability"]) == (0, 0, None)
    assert body["members"]["orders"] == body["non_members"]["orders"] == 0
    assert body["members"]["aov"] is None
    assert body["redemption_rate"] is None
    assert all(t["members"] == 0 for t in body["tiers"])


def test_bad_periods_are_refused_with_422(client: FlaskClient, shop: int) -> None:
    for query, field in (
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-03-10&to=2026-03-01", "from"),
        ("from=2020-01-01&to=2026-03-01", "to"),
        ("from=2026-3-1", "from"),
    ):
        response = client.get(f"/api/admin/analytics?{query}", headers=bearer())
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"]


def test_the_default_period_is_the_last_twelve_weeks(client: FlaskClient, shop: int) -> None:
    body = client.get("/api/admin/analytics", headers=bearer()).get_json()
    today = datetime(2026, 3, 2, tzinfo=UTC).date()  # the test clock's START
    assert body["to"] == today.isoformat()
    assert body["from"] == (today - timedelta(days=83)).isoformat()
    assert len(body["weeks"]) == 13  # a Monday-to-Monday span touches 13 weeks


def test_analytics_needs_an_admin_session(client: FlaskClient, shop: int) -> None:
    response = client.get("/api/admin/analytics")
    assert response.status_code == 401

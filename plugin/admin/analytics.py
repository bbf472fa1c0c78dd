"""The program's figures for a period, each computed by SQL aggregates over stored facts.

The period is ``from`` 00:00 UTC to the end of ``to`` (both dates included). Definitions (the
page shows each beside its figure; ``DEFINITIONS`` is the one text of them):

- **Points issued**: points credited in the period — order awards (pending points included:
  they are issued when the order is awarded, and their release is not counted again), welcome
  bonuses and positive manual adjustments. Imported balances are *not* issued here: they were
  issued by the previous app and would inflate the redemption rate of the import's week; they
  are shown apart (``points_imported``). Reversals by refunds and cancellations, and negative
  adjustments, are shown apart too (``points_reversed``, ``points_deducted``).
- **Points redeemed**: points spent on rewards (ledger ``redemption``) minus points given back
  for a redemption that failed or was refunded (``redemption_refund``).
- **Points expired**: points taken by inactivity expiry.
- **Outstanding points**: at the end of the period, the sum over customers (erased ones left
  out) of their balance, available plus pending, where positive: a negative balance is owed
  *by* the customer and lowers nothing the shop owes.
- **Liability**: outstanding points × the money per point of the active fixed-value reward
  (fixed amount or store credit) that gives least per point: the least the shop will owe.
- **Redemption rate**: points redeemed ÷ points issued, in the period.
- **Members / non-members**: orders paid in the period, not test orders and not cancelled, with a
  total. A member is a customer who is a member at the end of the period (joined before it
  ended); everyone else is a non-member, guest orders included — each guest order counts as
  one customer (a guest cannot be recognised twice). AOV = total of those orders ÷ their number
  (shop currency, ``total_price`` as Shopify reports it in shop money); orders per customer =
  orders ÷ distinct customers; repeat rate = customers with two or more of those orders ÷
  customers.
- **Remembered choice used**: such an order of a customer whose remembered preference was last
  set *before the order was created* (``customer_preferences.updated_at < orders.created_at``,
  so it held when the order was placed and was not learned from this very order), and whose
  payment method name (``orders.payment_method_name``) or delivery option (title or code)
  equals it. A preference changed after the order was placed is not counted: its earlier value
  is not stored.
- **Tier distribution**: current members by their current tier (erased customers left out).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from ..loyalty.program import ProgramSettings
from ..models import Customer, CustomerPreference, LedgerEntry, Order, Reward, Shop
from .period import Period
from .reach import payment_reach

CENT = Decimal("0.01")
RATE = Decimal("0.0001")
FIXED_VALUE_REWARDS = ("fixed_amount", "store_credit")

DEFINITIONS = {
    "points_issued": "Order awards (pending included), welcome bonuses and positive "
    "adjustments credited in the period. Imports are not counted as issued.",
    "points_redeemed": "Points spent on rewards in the period, less points given back for "
    "failed or refunded redemptions.",
    "points_expired": "Points taken by inactivity expiry in the period.",
    "points_reversed": "Points taken back by refunds and cancellations in the period.",
    "points_deducted": "Negative manual adjustments in the period.",
    "points_imported": "Balances imported from another loyalty app in the period.",
    "outstanding_points": "At the end of the period: every customer's positive balance "
    "(available plus pending), summed.",
    "liability": "Outstanding points at the money per point of the cheapest fixed-value "
    "reward (fixed amount or store credit).",
    "redemption_rate": "Points redeemed ÷ points issued in the period.",
    "aov": "Total of paid, non-test, non-cancelled orders of the period ÷ their number, in "
    "the shop's currency.",
    "orders_per_customer": "Those orders ÷ the customers who placed them (each guest order "
    "is one customer).",
    "repeat_rate": "Share of those customers with two or more such orders in the period.",
    "members": "Customers who are members at the end of the period.",
    "non_members": "Everyone else, guest orders included.",
    "remembered_choices": "Orders of customers whose remembered payment (or delivery) choice "
    "was set before the order was placed and equals what the order used.",
    "tiers": "Current members by their current tier.",
    "reach": "Which payment methods the checkout Functions can move to the top on this "
    "shop's plan and country; share of the period's orders paid with a movable method.",
}


def _ratio(numerator: Decimal | int, denominator: Decimal | int, step: Decimal) -> str | None:
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(step, ROUND_HALF_UP))


def _week_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The Monday (UTC) of the week of ``column``, as a date or ``YYYY-MM-DD`` text."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC text; 'weekday 0' moves to the coming Sunday (or stays), -6 days
        # is that week's Monday.
        return func.date(column, "weekday 0", "-6 days")
    return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)


def _money_cents_sum(session: Session, column: Any) -> ColumnElement[Any]:
    """The exact sum of a money column, in cents. SQLite keeps money as decimal text, and its
    SUM would turn it into a binary float: cents are summed as integers there instead."""
    if session.get_bind().dialect.name == "sqlite":
        return func.coalesce(func.sum(cast(func.round(column * 100), Integer)), 0)
    return func.coalesce(func.sum(column), 0) * 100


def ledger_figures(session: Session, shop: Shop, period: Period) -> dict[str, Any]:
    week = _week_of(session, LedgerEntry.created_at).label("week")
    positive = (LedgerEntry.points > 0).label("positive")
    rows = session.execute(
        select(
            week,
            LedgerEntry.kind,
            positive,
            func.sum(LedgerEntry.points),
            func.sum(LedgerEntry.pending_points),
        )
        .where(
            LedgerEntry.shop_id == shop.id,
            LedgerEntry.created_at >= period.start,
            LedgerEntry.created_at < period.end,
        )
        .group_by(week, LedgerEntry.kind, positive)
    ).all()
    names = ("issued", "redeemed", "expired", "reversed", "deducted", "imported")
    weekly = {w: dict.fromkeys(names, 0) for w in period.weeks()}
    totals = dict.fromkeys(names, 0)
    for raw_week, kind, is_positive, points, pending in rows:
        monday = date.fromisoformat(str(raw_week)[:10])
        points, pending = int(points or 0), int(pending or 0)
        bucket = weekly.setdefault(monday, dict.fromkeys(names, 0))
        figure, amount = _classify(kind, bool(is_positive), points, pending)
        if figure is not None:
            bucket[figure] += amount
            totals[figure] += amount
    return {
        "totals": totals,
        "weeks": [{"week": w.isoformat(), **weekly[w]} for w in sorted(weekly)],
    }


def _classify(kind: str, positive: bool, points: int, pending: int) -> tuple[str | None, int]:
    """Which figure a group of entries adds to, and by how much (always counted positive)."""
    if kind == "order_award":
        return "issued", points + pending
    if kind == "welcome_bonus":
        return "issued", points
    if kind == "adjustment":
        return ("issued", points) if positive else ("deducted", -points)
    if kind in ("redemption", "redemption_refund"):
        return "redeemed", -points
    if kind == "expiry":
        return "expired", -points
    if kind in ("refund_reversal", "cancellation_reversal"):
        return "reversed", -(points + pending)
    if kind == "import":
        return "imported", points
    return None, 0  # pending_release moves pending to available: nothing is issued again


def outstanding_points(session: Session, shop: Shop, at: datetime) -> int:
    balances = (
        select(
            LedgerEntry.customer_id,
            (func.sum(LedgerEntry.points) + func.sum(LedgerEntry.pending_points)).label("b"),
        )
        .join(Customer, Customer.id == LedgerEntry.customer_id)
        .where(
            LedgerEntry.shop_id == shop.id,
            LedgerEntry.created_at < at,
            Customer.redacted_at.is_(None),
        )
        .group_by(LedgerEntry.customer_id)
        .subquery()
    )
    total = session.scalar(
        select(func.coalesce(func.sum(case((balances.c.b > 0, balances.c.b), else_=0)), 0))
    )
    return int(total or 0)


def cheapest_point_value(session: Session, shop: Shop) -> tuple[Decimal, str] | None:
    """(money per point, reward title) of the active fixed-value reward giving least per point."""
    rewards = session.execute(
        select(Reward.title, Reward.value, Reward.points_cost).where(
            Reward.shop_id == shop.id,
            Reward.active.is_(True),
            Reward.reward_type.in_(FIXED_VALUE_REWARDS),
            Reward.points_cost > 0,
        )
    ).all()
    rates = [(Decimal(value) / Decimal(cost), title) for title, value, cost in rewards]
    return min(rates, key=lambda r: r[0]) if rates else None


def _paid_orders(shop: Shop, period: Period) -> list[ColumnElement[bool]]:
    return [
        Order.shop_id == shop.id,
        Order.paid_at >= period.start,
        Order.paid_at < period.end,
        Order.is_test.is_(False),
        Order.cancelled_at.is_(None),
        Order.total_price.is_not(None),
    ]


def customer_groups(session: Session, shop: Shop, period: Period) -> dict[str, dict[str, Any]]:
    is_member = and_(Customer.is_member.is_(True), Customer.member_since < period.end).label(
        "is_member"
    )
    per_customer = (
        select(
            Order.customer_id,
            func.coalesce(is_member, False).label("is_member"),
            func.count(Order.id).label("n"),
            _money_cents_sum(session, Order.total_price).label("cents"),
        )
        .outerjoin(Customer, Customer.id == Order.customer_id)
        .where(*_paid_orders(shop, period), Order.customer_id.is_not(None))
        .group_by(Order.customer_id, is_member)
        .subquery()
    )
    groups = {
        bool(flag): (int(customers), int(orders or 0), Decimal(cents or 0), int(repeaters or 0))
        for flag, customers, orders, cents, repeaters in session.execute(
            select(
                per_customer.c.is_member,
                func.count(),
                func.sum(per_customer.c.n),
                func.sum(per_customer.c.cents),
                func.sum(case((per_customer.c.n >= 2, 1), else_=0)),
            ).group_by(per_customer.c.is_member)
        )
    }
    guests, guest_cents = session.execute(
        select(func.count(Order.id), _money_cents_sum(session, Order.total_price)).where(
            *_paid_orders(shop, period), Order.customer_id.is_(None)
        )
    ).one()
    customers, orders, cents, repeaters = groups.get(False, (0, 0, Decimal(0), 0))
    non_members = (
        customers + int(guests),
        orders + int(guests),
        cents + Decimal(guest_cents or 0),
        repeaters,
    )
    return {
        "members": _group(*groups.get(True, (0, 0, Decimal(0), 0))),
        "non_members": _group(*non_members),
    }


def _group(customers: int, orders: int, cents: Decimal, repeaters: int) -> dict[str, Any]:
    total = (cents / 100).quantize(CENT)
    return {
        "customers": customers,
        "orders": orders,
        "revenue": str(total),
        "aov": _ratio(total, orders, CENT),
        "orders_per_customer": _ratio(orders, customers, CENT),
        "repeat_rate": _ratio(repeaters, customers, RATE),
    }


def remembered_choices(session: Session, shop: Shop, period: Period) -> dict[str, Any]:
    result: dict[str, Any] = {}
    # The preference held when the order was placed: the shopper's own choice if they had made
    # one by then, else the one learned from their orders (as checkout puts them first).
    chosen = aliased(CustomerPreference)
    held_then = or_(
        CustomerPreference.source == "chosen",
        ~exists().where(
            chosen.shop_id == CustomerPreference.shop_id,
            chosen.customer_id == CustomerPreference.customer_id,
            chosen.kind == CustomerPreference.kind,
            chosen.source == "chosen",
            chosen.updated_at < Order.created_at,
        ),
    )
    for kind, used in (
        ("payment", CustomerPreference.value == Order.payment_method_name),
        (
            "delivery",
            or_(
                CustomerPreference.value == Order.delivery_title,
                CustomerPreference.value == Order.delivery_code,
            ),
        ),
    ):
        held, matched = session.execute(
            select(func.count(Order.id), func.coalesce(func.sum(case((used, 1), else_=0)), 0))
            .join(
                CustomerPreference,
                and_(
                    CustomerPreference.shop_id == Order.shop_id,
                    CustomerPreference.customer_id == Order.customer_id,
                    CustomerPreference.kind == kind,
                    CustomerPreference.updated_at < Order.created_at,
                    held_then,
                ),
            )
            .where(*_paid_orders(shop, period))
        ).one()
        result[kind] = {
            "orders_with_preference": int(held),
            "orders_using_it": int(matched or 0),
            "share": _ratio(int(matched or 0), int(held), RATE),
        }
    return result


def tier_distribution(
    session: Session, shop: Shop, program: ProgramSettings
) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for key, n in session.execute(
        select(Customer.tier_key, func.count(Customer.id))
        .where(
            Customer.shop_id == shop.id,
            Customer.is_member.is_(True),
            Customer.redacted_at.is_(None),
        )
        .group_by(Customer.tier_key)
    ):
        tier = program.tier_by_key(key)
        counts[tier.key] = counts.get(tier.key, 0) + int(n)
    return [{"key": t.key, "name": t.name, "members": counts.get(t.key, 0)} for t in program.tiers]


def payment_reach_of_orders(session: Session, shop: Shop, period: Period) -> dict[str, Any]:
    method = func.coalesce(Order.payment_method_name, Order.payment_gateway, literal("unknown"))
    rows = session.execute(
        select(method, func.count(Order.id))
        .where(*_paid_orders(shop, period))
        .group_by(method)
        .order_by(func.count(Order.id).desc(), method)
    ).all()
    methods = []
    movable = counted = 0
    for name, n in rows:
        reach = payment_reach(
            str(name), country=shop.country_code, shopify_plus=shop.plan_shopify_plus
        )
        methods.append({"name": name, "orders": int(n), "movable": reach.movable, "why": reach.why})
        if reach.movable in ("yes", "no"):
            counted += int(n)
            movable += int(n) if reach.movable == "yes" else 0
    return {
        "plan": shop.plan_display_name,
        "shopify_plus": shop.plan_shopify_plus,
        "country": shop.country_code,
        "synced_at": shop.shop_facts_synced_at.isoformat() if shop.shop_facts_synced_at else None,
        "payment_methods": methods,
        "movable_share": _ratio(movable, counted, RATE),
        "delivery": "A remembered delivery option is moved first only when it is the cheapest "
        "(or tied); otherwise it is labelled as the shopper's usual choice.",
    }


def compute_analytics(
    session: Session, shop: Shop, program: ProgramSettings, period: Period
) -> dict[str, Any]:
    ledger = ledger_figures(session, shop, period)
    totals = ledger["totals"]
    outstanding = outstanding_points(session, shop, period.end)
    point_value = cheapest_point_value(session, shop)
    liability = None
    if point_value is not None:
        amount = (Decimal(outstanding) * point_value[0]).quantize(CENT, ROUND_HALF_UP)
        liability = {"amount": str(amount), "currency": shop.currency, "reward": point_value[1]}
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "currency": shop.currency,
        **{f"points_{name}": value for name, value in totals.items()},
        "outstanding_points": outstanding,
        "liability": liability,
        "redemption_rate": _ratio(totals["redeemed"], totals["issued"], RATE),
        "weeks": ledger["weeks"],
        **customer_groups(session, shop, period),
        "remembered_choices": remembered_choices(session, shop, period),
        "tiers": tier_distribution(session, shop, program),
        "reach": payment_reach_of_orders(session, shop, period),
        "definitions": DEFINITIONS,
    }

"""The loyalty object the widget shows: one indexed read per table, no ORM (Core statements for
the shop, the driver's own cursor for the customer's one statement).

This is checkout's hot path. Per request: the shop (by its unique domain) and its active
rewards come from a per-process cache of a few seconds; the customer (unique on shop and
Shopify id), their preference rows (unique prefix shop, customer) and their last ledger entries
(``ix_ledger_customer``) are one statement, each part answered from its index alone (migration
0021; on SQLite the preferences' rows are still read), cached per customer for a few seconds.
``points_for_cart`` depends on the subtotal, so it is computed on every request from the cached
rates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..loyalty.points import award_points
from ..loyalty.preferences import PreferredCheckoutChoices
from ..loyalty.program import ProgramSettings, Tier
from ..runtime import Kanta
from .cache import TTLCache

CACHE_SECONDS = 3.0
RECENT_ENTRIES = 5

SHOP_SQL = text(
    "SELECT id, currency, program, installed_at, uninstalled_at FROM shops WHERE domain = :domain"
)
REWARDS_SQL = text(
    "SELECT id, title, reward_type, points_cost FROM rewards "
    "WHERE shop_id = :shop_id AND active ORDER BY points_cost, id"
)
# PostgreSQL: the customer's three reads as one statement (each subquery on its index), answered as
# one JSON text that orjson parses: the customer's columns, then their preference rows and
# their latest entries as arrays. Run on the driver's own cursor (``Database.run_cursor_read``),
# hence psycopg's placeholders; psycopg prepares it on each connection after a few runs.
CUSTOMER_IN_ONE_SQL = (
    "SELECT json_build_array(c.id, c.is_member, c.points_balance, c.pending_points, "
    "c.tier_points, c.tier_key, c.marketing_consent, c.redacted_at, "
    "(SELECT COALESCE(json_agg(json_build_array(p.kind, p.source, p.value)), '[]') "
    " FROM customer_preferences p WHERE p.shop_id = c.shop_id AND p.customer_id = c.id), "
    "(SELECT COALESCE(json_agg(json_build_array(e.kind, e.points, e.pending_points, "
    " e.created_at) ORDER BY e.id DESC), '[]') FROM (SELECT id, kind, points, pending_points, "
    " created_at FROM ledger_entries WHERE shop_id = c.shop_id AND customer_id = c.id "
    " ORDER BY id DESC LIMIT %(n)s) e))::text "
    "FROM customers c WHERE c.shop_id = %(shop_id)s AND c.shopify_customer_id = %(customer_id)s"
)
# SQLite: the same statement (sqlite3's named placeholders). Its json_group_array has no ORDER
# BY (before 3.44) and keeps no promised order, so each entry carries its id to sort on; json()
# keeps the subqueries' arrays JSON inside the outer array (a subquery drops their JSON type).
CUSTOMER_IN_ONE_SQLITE = (
    "SELECT json_array(c.id, c.is_member, c.points_balance, c.pending_points, "
    "c.tier_points, c.tier_key, c.marketing_consent, c.redacted_at, "
    "json((SELECT json_group_array(json_array(p.kind, p.source, p.value)) "
    " FROM customer_preferences p WHERE p.shop_id = c.shop_id AND p.customer_id = c.id)), "
    "json((SELECT json_group_array(json_array(e.id, e.kind, e.points, e.pending_points, "
    " e.created_at)) FROM (SELECT id, kind, points, pending_points, created_at "
    " FROM ledger_entries WHERE shop_id = c.shop_id AND customer_id = c.id "
    " ORDER BY id DESC LIMIT :n) e))) "
    "FROM customers c WHERE c.shop_id = :shop_id AND c.shopify_customer_id = :customer_id"
)


class _Customer(NamedTuple):
    id: int
    is_member: bool
    points_balance: int
    pending_points: int
    tier_points: int
    tier_key: str | None
    marketing_consent: bool | None
    redacted_at: str | None


class _Preference(NamedTuple):
    kind: str
    source: str
    value: str


class _Entry(NamedTuple):
    kind: str
    points: int
    pending_points: int
    created_at: str  # ISO 8601 with its offset, as PostgreSQL writes a timestamptz in JSON


# The ledger's entry kinds in the shopper's words.
DESCRIPTIONS = {
    "order_award": "Points for your order",
    "pending_release": "Points from your order are ready to spend",
    "refund_reversal": "Points taken back for a refund",
    "cancellation_reversal": "Points taken back for a cancelled order",
    "cancellation": "Points taken back for a cancelled order",
    "expiry": "Points expired",
    "adjustment": "Adjusted by the shop",
    "welcome_bonus": "Welcome bonus for joining",
    "redemption": "Spent on a reward",
    "redemption_refund": "Points returned: the reward could not be issued",
}


@dataclass(frozen=True)
class ShopView:
    id: int
    domain: str
    currency: str
    installed: bool
    program: ProgramSettings
    rewards: tuple[tuple[int, str, str, int], ...]


@dataclass(frozen=True)
class CustomerView:
    pk: int | None
    member: bool
    points: int
    pending: int
    tier_points: int
    tier_key: str | None
    marketing_consent: bool | None
    preferences: PreferredCheckoutChoices
    # (points, description, ISO moment or None), newest first: tuples of atoms (see ``_flat``).
    recent: tuple[tuple[int, str, str | None], ...]


NO_PREFERENCES = PreferredCheckoutChoices(None, None, None)
UNKNOWN_CUSTOMER = CustomerView(None, False, 0, 0, 0, None, None, NO_PREFERENCES, ())


class LoyaltyReader:
    """One per app: the caches, and the reads behind them."""

    def __init__(self, kanta: Kanta) -> None:
        self.kanta = kanta
        self.shops: TTLCache[ShopView | None] = TTLCache(CACHE_SECONDS, 10_000)
        # Views are cached as plain tuples of strings and numbers (``_flat``): the garbage
        # collector stops tracking those, where a cached dataclass per shopper made every full
        # collection walk them all (30–120 ms pauses at 10,000 shoppers, bench/README.md).
        self.customers: TTLCache[tuple[Any, ...]] = TTLCache(CACHE_SECONDS, 100_000)

    def shop(self, domain: str) -> ShopView | None:
        cached = self.shops.get(domain)
        if cached is not None:
            return cached
        # The read engine: autocommit on PostgreSQL (each BEGIN and ROLLBACK was a round trip),
        # no pre-ping, one retry on a dead connection (plugin/db.py).
        view = self.kanta.db.run_read(lambda conn: self._read_shop(conn, domain))
        self.shops.put(domain, view)
        return view

    def _read_shop(self, conn: Connection, domain: str) -> ShopView | None:
        row = conn.execute(SHOP_SQL, {"domain": domain}).first()
        view: ShopView | None = None
        if row is not None:
            rewards = conn.execute(REWARDS_SQL, {"shop_id": row.id}).all()
            program = row.program
            view = ShopView(
                id=row.id,
                domain=domain,
                currency=row.currency,
                installed=row.installed_at is not None and row.uninstalled_at is None,
                program=ProgramSettings.from_dict(
                    program if isinstance(program, dict) else _json(program)
                ),
                rewards=tuple((r.id, r.title, r.reward_type, int(r.points_cost)) for r in rewards),
            )
        return view

    def customer(self, shop: ShopView, shopify_customer_id: int) -> CustomerView:
        key = (shop.id, shopify_customer_id)
        cached = self.customers.get(key)
        if cached is not None:
            return _unflat(cached)
        view = self.kanta.db.run_cursor_read(
            lambda cursor: self._read_customer_in_one(cursor, shop, shopify_customer_id)
        )
        self.customers.put(key, _flat(view))
        return view

    def _read_customer_in_one(
        self, cursor: Any, shop: ShopView, shopify_customer_id: int
    ) -> CustomerView:
        # One statement, one round trip (and one snapshot) for the three reads.
        sqlite = self.kanta.db.is_sqlite
        params = {"shop_id": shop.id, "customer_id": shopify_customer_id, "n": RECENT_ENTRIES}
        cursor.execute(CUSTOMER_IN_ONE_SQLITE if sqlite else CUSTOMER_IN_ONE_SQL, params)
        row = cursor.fetchone()
        if row is None:
            return UNKNOWN_CUSTOMER
        *customer, prefs, recent = orjson.loads(row[0])
        if sqlite:  # newest first, then without the id
            recent = [e[1:] for e in sorted(recent, key=lambda e: e[0], reverse=True)]
        return _customer_view(
            _Customer(*customer), [_Preference(*p) for p in prefs], [_Entry(*e) for e in recent]
        )

    def forget(self, shop_id: int, shopify_customer_id: int) -> None:
        self.customers.drop((shop_id, shopify_customer_id))


def _flat(view: CustomerView) -> tuple[Any, ...]:
    """The view as exact tuples of atoms, nested: the collector untracks those at its first pass
    (a tuple holding a dict or a dataclass stays tracked)."""
    prefs = view.preferences
    return (
        view.pk,
        view.member,
        view.points,
        view.pending,
        view.tier_points,
        view.tier_key,
        view.marketing_consent,
        (prefs.payment_method, prefs.delivery_option, prefs.source),
        view.recent,
    )


def _unflat(flat: tuple[Any, ...]) -> CustomerView:
    pk, member, points, pending, tier_points, tier_key, consent, prefs, recent = flat
    return CustomerView(
        pk,
        member,
        points,
        pending,
        tier_points,
        tier_key,
        consent,
        PreferredCheckoutChoices(*prefs),
        recent,
    )


def _customer_view(row: Any, prefs: Sequence[Any], recent: Sequence[Any]) -> CustomerView:
    if row.redacted_at is not None:
        return UNKNOWN_CUSTOMER
    return CustomerView(
        pk=row.id,
        member=bool(row.is_member),
        points=int(row.points_balance),
        pending=int(row.pending_points),
        tier_points=int(row.tier_points),
        tier_key=row.tier_key,
        marketing_consent=None if row.marketing_consent is None else bool(row.marketing_consent),
        preferences=PreferredCheckoutChoices.resolve([(p.kind, p.source, p.value) for p in prefs]),
        recent=tuple(_describe(e) for e in recent),
    )


def _json(raw: Any) -> dict[str, Any]:
    # JSON columns come back parsed on PostgreSQL, as text on SQLite (through text()).
    parsed = json.loads(raw) if isinstance(raw, str | bytes) else {}
    return parsed if isinstance(parsed, dict) else {}


def _aware_utc(value: Any) -> datetime | None:
    """A timestamp read through ``text()``: aware on PostgreSQL; naive UTC text on SQLite (the
    models' ``UTCDateTime`` stores it so)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _describe(entry: Any) -> tuple[int, str, str | None]:
    # SQLite: naive UTC text; PostgreSQL: aware, or ISO 8601 with its offset inside JSON.
    moment = _aware_utc(entry.created_at)
    points = int(entry.points) or int(entry.pending_points)
    description = DESCRIPTIONS.get(entry.kind, "Points changed")
    if entry.kind == "order_award" and int(entry.points) == 0 and int(entry.pending_points):
        description = "Points for your order (pending)"
    return (points, description, moment.isoformat() if moment else None)


def _tier_json(tier: Tier) -> dict[str, str]:
    return {"name": tier.name, "multiplier": str(tier.multiplier)}


def loyalty_object(
    shop: ShopView, customer: CustomerView, subtotal: Decimal | None, *, guest: bool
) -> dict[str, Any]:
    """The contract of ``GET /api/checkout/loyalty`` (issue 10)."""
    program = shop.program
    tier = program.tier_by_key(customer.tier_key) if customer.member else program.tiers[0]
    upcoming = program.next_tier(customer.tier_points) if customer.member else None
    points_for_cart = (
        award_points(subtotal, program.earn_rate, tier.multiplier) if subtotal is not None else None
    )
    answer: dict[str, Any] = {
        "member": customer.member,
        "guest": guest,
        "points": customer.points,
        "pending_points": customer.pending,
        "tier": _tier_json(tier),
        "next_tier": None
        if upcoming is None
        else {"name": upcoming.name, "points_needed": upcoming.threshold - customer.tier_points},
        "points_for_cart": points_for_cart,
        "currency": shop.currency,
        "rewards": [
            {
                "id": str(rid),
                "title": title,
                "kind": kind,
                "points_cost": cost,
                "redeemable": customer.member and customer.points >= cost,
            }
            for rid, title, kind, cost in shop.rewards
        ],
        "preferences": {
            "payment_method": customer.preferences.payment_method,
            "delivery_option": customer.preferences.delivery_option,
            "source": customer.preferences.source,
        },
        "marketing_consent": customer.marketing_consent,
        "recent": [
            {"points": points, "description": description, "at": at}
            for points, description, at in customer.recent
        ],
    }
    if not customer.member:
        # The join offer: what joining gives, and (for a guest) that it needs an account.
        answer["join"] = {
            "welcome_bonus": program.welcome_bonus,
            "requires_login": guest,
        }
    return answer

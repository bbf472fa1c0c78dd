"""Build a large benchmark database: shops, members, orders and ledger entries, on the real schema.

    python -m bench.seed --members 1000000 --entries 20000000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kanta_bench_1m

The schema comes from the Alembic migrations. The first shop (``bench-1.myshopify.com``, the one
the benchmarks measure) gets ``--members`` members and ``--entries`` ledger entries; each of the
``--other-shops`` gets 5 % as many, so every query the benchmarks time must be narrowed by a
per-shop index. Data is realistic enough to exercise the real access paths: names and emails drawn
from common names, skewed activity (a few members with hundreds of entries, many with two or
three), a welcome bonus, orders with the payment method and delivery option checkout showed,
awards held pending for 14 days then released, some refunds reversing points, a few adjustments,
marketing consent, the payment and delivery each member usually picks (learned from their last
five orders, as the app learns them) and, for 1 in 20, an explicit choice. Every customer's
projections (balance, pending, tier points, tier) equal the sums of their entries, so
``flask --app app ledger verify`` passes. Explicit choices and learned preferences are written
once the schema has them (migration 0010, the checkout branch); a re-run adds them to a database
built before.

Loading is bulk: PostgreSQL ``COPY`` (foreign-key triggers off for the loading session),
SQLite ``executemany`` with a large cache. The secondary indexes of the three big tables are
dropped while loading and rebuilt from their saved definitions afterwards. Members are built in
chunks, each committed with its entries and orders and recorded in ``bench_seed_state``: an
interrupted run resumes at the next chunk, and a finished database is recognised at once and left
as it is (a different size asks for another database).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command as alembic_command
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import Engine, make_url

from plugin.cli import migration_connection
from plugin.crypto import TokenCipher
from plugin.loyalty.program import ProgramSettings

MAIN_SHOP = "bench-1.myshopify.com"
# Encrypts the shops' placeholder Admin API tokens; the benchmarks' servers use the same key.
# Not a secret: these databases hold generated data only.
TOKEN_ENCRYPTION_KEY = "YmVuY2gtb25seS1ub3QtYS1zZWNyZXQtMDEyMzQ1Njc="
# The app credentials the benchmarks serve these databases with (their tokens are signed with it).
API_KEY = "bench-api-key"
API_SECRET = "bench-api-secret-0123456789abcdef0123456789"
OTHER_SHOP_SHARE = 0.05
CHUNK_MEMBERS = 10_000
PENDING_DAYS = 14
HISTORY_DAYS = 730
MAX_ENTRIES_PER_MEMBER = 5_000
STATE_TABLE = "bench_seed_state"
# The tables whose secondary indexes are dropped while loading; and all the tables loaded.
BIG_TABLES = ("customers", "orders", "ledger_entries")
LOADED_TABLES = (*BIG_TABLES, "customer_preferences")

SHOPIFY_CUSTOMER_BASE = 7_000_000_000_000
SHOPIFY_ORDER_BASE = 5_000_000_000_000
SHOPIFY_REFUND_BASE = 9_000_000_000_000

FIRST_NAMES = (
    "Aino Alex Alice Amelia Anna Ava Ben Carlos Charlotte Chloe Daniel David Elena Elias Ella "
    "Emil Emily Emma Eva Felix Grace Hanna Harper Henry Isabella Ivan Jack James Jessica John "
    "Jonas Joseph Julia Kai Kaito Laura Leo Liam Lily Lucas Luis Maria Mason Mateo Mia Michael "
    "Mika Nina Noah Olivia Oliver Omar Otto Paula Pedro Priya Rahul Robert Sara Sofia Sophia "
    "Thomas Valentina Veera William Yuki Zoe"
).split()
LAST_NAMES = (
    "Anderson Becker Brown Carter Chen Clark Costa Davis Dubois Evans Fischer Garcia Gonzalez "
    "Hall Hansen Harris Hernandez Ito Jackson Johnson Jones Kim Korhonen Kumar Lee Lewis Lopez "
    "Martin Martinez Miller Moore Muller Nguyen Nieminen Novak Patel Perez Rossi Sanchez Santos "
    "Schmidt Silva Smith Suzuki Tanaka Taylor Thomas Thompson Virtanen Walker White Williams "
    "Wilson Wright Young"
).split()
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example", "shop.example", "inbox.example")
# (gateway, name checkout shows, weight)
PAYMENTS = (
    ("shopify_payments", "Credit card", 55),
    ("paypal", "PayPal", 25),
    ("shopify_payments", "Shop Pay", 10),
    ("Cash on Delivery (COD)", "Cash on Delivery (COD)", 5),
    ("Bank Deposit", "Bank Deposit", 5),
)
# (title, code, kind, weight)
DELIVERIES = (
    ("Standard", "STANDARD", "shipping", 60),
    ("Express", "EXPRESS", "shipping", 25),
    ("Pickup in store", "pickup-main-street", "pickup", 10),
    ("Local delivery", "LOCAL", "local", 5),
)

LEDGER_COLUMNS = (
    "shop_id",
    "customer_id",
    "kind",
    "source",
    "idempotency_key",
    "points",
    "pending_points",
    "tier_points",
    "tier_counted_at",
    "shopify_order_id",
    "source_ref",
    "details",
    "reason",
    "actor",
    "created_at",
)
ORDER_COLUMNS = (
    "shop_id",
    "shopify_order_id",
    "customer_id",
    "name",
    "source_name",
    "is_test",
    "currency",
    "total_price",
    "payment_gateway",
    "payment_method_name",
    "delivery_title",
    "delivery_code",
    "delivery_kind",
    "facts",
    "eligible_amount",
    "paid_at",
    "award_status",
    "awarded_at",
    "earn_rate",
    "multiplier",
    "awarded_points",
    "reversed_points",
    "refunded_eligible",
    "pending_remaining",
    "available_at",
    "created_at",
    "updated_at",
)
CUSTOMER_COLUMNS = (
    "id",
    "shop_id",
    "shopify_customer_id",
    "email",
    "first_name",
    "last_name",
    "is_member",
    "member_since",
    "marketing_consent",
    "consent_updated_at",
    "points_balance",
    "pending_points",
    "tier_points",
    "tier_key",
    "tier_counted_since",
    "last_activity_at",
    "last_order_at",
    "created_at",
    "updated_at",
)
REVERSED_POINTS = ORDER_COLUMNS.index("reversed_points")
REFUNDED_ELIGIBLE = ORDER_COLUMNS.index("refunded_eligible")
CENT = Decimal("0.01")

Row = tuple[Any, ...]


def server_env(database_url: str) -> dict[str, str]:
    """The environment Kanta runs with against a database this module built."""
    return {
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_APP_URL": "https://kanta.bench",
        "TOKEN_ENCRYPTION_KEY": TOKEN_ENCRYPTION_KEY,
        "DATABASE_URL": database_url,
    }


# ---------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class ShopPlan:
    """One shop's share: its members are customer ids ``first_customer_id`` onwards."""

    number: int
    domain: str
    members: int
    entries: int
    first_customer_id: int

    def chunks(self) -> int:
        return math.ceil(self.members / CHUNK_MEMBERS)

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """Members ``[start, stop)`` (indexes within the shop) and so its entry budget."""
        return chunk * CHUNK_MEMBERS, min(self.members, (chunk + 1) * CHUNK_MEMBERS)

    def entries_for(self, start: int, stop: int) -> int:
        return self.entries * stop // self.members - self.entries * start // self.members


def plan_shops(members: int, entries: int, other_shops: int) -> list[ShopPlan]:
    if members < 1 or entries < members:
        raise SystemExit("need at least one member and at least one entry per member")
    sizes = [(members, entries)] + [
        (max(1, round(members * OTHER_SHOP_SHARE)), max(1, round(entries * OTHER_SHOP_SHARE)))
        for _ in range(other_shops)
    ]
    plans, next_id = [], 1
    for number, (shop_members, shop_entries) in enumerate(sizes, start=1):
        shop_entries = max(shop_entries, shop_members)
        domain = f"bench-{number}.myshopify.com"
        plans.append(ShopPlan(number, domain, shop_members, shop_entries, next_id))
        next_id += shop_members
    return plans


# ---------------------------------------------------------------------------- the data


@dataclass
class MemberRows:
    customers: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    entries: list[Row] = field(default_factory=list)


class Encoder:
    """Values as each database stores them: timestamps, booleans and money differ."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def moment(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if self.sqlite:
            return value.replace(tzinfo=None).isoformat(" ", timespec="microseconds")
        return value.isoformat(" ", timespec="microseconds")

    def flag(self, value: bool | None) -> Any:
        if value is None:
            return None
        if self.sqlite:
            return 1 if value else 0
        return "t" if value else "f"


def _weighted(rng: random.Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(options, weights=[o[-1] for o in options])[0]


def entry_counts(rng: random.Random, members: int, entries: int) -> list[int]:
    """``members`` counts of at least 1 summing to ``entries``, heavy-tailed like real activity."""
    weights = [min(rng.paretovariate(1.3), 400.0) for _ in range(members)]
    spare = entries - members
    total = sum(weights)
    counts = [1 + int(spare * w / total) for w in weights]
    # Rounding down left fewer than one entry per member: hand them out one each.
    for index in rng.sample(range(members), entries - sum(counts)):
        counts[index] += 1
    for index, count in enumerate(counts):
        if count > MAX_ENTRIES_PER_MEMBER:
            counts[index] = MAX_ENTRIES_PER_MEMBER
            counts[rng.randrange(members)] += count - MAX_ENTRIES_PER_MEMBER
    return counts


def build_member(
    rng: random.Random,
    encode: Encoder,
    shop_id: int,
    program: ProgramSettings,
    customer_id: int,
    entry_count: int,
    now: datetime,
    rows: MemberRows,
) -> None:
    """One member's customer row, orders and ledger entries, appended to ``rows``."""
    m = encode.moment
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower()}{customer_id}@{rng.choice(EMAIL_DOMAINS)}"
    joined = now - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))
    usual_payment = _weighted(rng, PAYMENTS)
    usual_delivery = _weighted(rng, DELIVERIES)
    tier_since = now - timedelta(days=program.tier_window_days)
    pending_cutoff = now - timedelta(days=PENDING_DAYS)

    # The welcome bonus, then events at random moments after joining.
    entries: list[tuple[datetime, Row]] = []
    balance = pending = tier_points = 0
    lifetime_tier = 0
    last_activity = joined
    last_order: datetime | None = None
    entries.append(
        (
            joined,
            (
                shop_id,
                customer_id,
                "welcome_bonus",
                "welcome",
                f"welcome:{customer_id}",
                program.welcome_bonus,
                0,
                0,
                None,
                None,
                None,
                "{}",
                None,
                None,
                m(joined),
            ),
        )
    )
    balance += program.welcome_bonus
    span = max(1.0, (now - joined).total_seconds())
    left = entry_count - 1
    # Event moments in order, so each award's multiplier is the tier reached by then.
    moments = sorted((rng.random() for _ in range(left)), reverse=True)
    order_number = 0
    released: list[tuple[int, str, int, datetime, str, Decimal]] = []
    orders: dict[int, list[Any]] = {}
    while left > 0:
        at = joined + timedelta(seconds=(moments.pop() if moments else rng.random()) * span)
        roll = rng.random()
        if roll < 0.05 and released:
            # A refund of part of an earlier, released order.
            order_id, name, awarded, awarded_at, multiplier, eligible = released.pop(
                rng.randrange(len(released))
            )
            reverse = min(max(1, awarded // rng.choice((1, 2, 3, 4))), balance)
            refunded = (eligible * reverse / awarded).quantize(CENT) if awarded else CENT
            if reverse == 0:
                continue
            refund_id = SHOPIFY_REFUND_BASE + customer_id * 10_000 + order_number
            order_number += 1
            at = max(at, awarded_at + timedelta(days=PENDING_DAYS, hours=1))
            if at > now:
                continue
            details = json.dumps(
                {
                    "refunded_eligible": str(refunded),
                    "order_name": name,
                    "awarded_points": awarded,
                    "reversed_total": reverse,
                    "earn_rate": "1",
                    "multiplier": multiplier,
                }
            )
            entries.append(
                (
                    at,
                    (
                        shop_id,
                        customer_id,
                        "refund_reversal",
                        "refund",
                        f"refund:{refund_id}",
                        -reverse,
                        0,
                        -reverse,
                        m(awarded_at),
                        order_id,
                        str(refund_id),
                        details,
                        None,
                        None,
                        m(at),
                    ),
                )
            )
            balance -= reverse
            orders[order_id][REVERSED_POINTS] = reverse
            orders[order_id][REFUNDED_ELIGIBLE] = str(refunded)
            if awarded_at >= tier_since:
                tier_points -= reverse
            lifetime_tier -= reverse
            left -= 1
            continue
        if roll < 0.07 or (left == 1 and at < pending_cutoff):
            # A merchant's goodwill adjustment.
            points = rng.choice((25, 50, 100, 250))
            entries.append(
                (
                    at,
                    (
                        shop_id,
                        customer_id,
                        "adjustment",
                        "adjustment",
                        f"adjust:bench-{customer_id}-{order_number}",
                        points,
                        0,
                        0,
                        None,
                        None,
                        None,
                        "{}",
                        rng.choice(("Late delivery", "Birthday", "Survey answered", "Goodwill")),
                        "staff@bench.example",
                        m(at),
                    ),
                )
            )
            order_number += 1
            balance += points
            last_activity = max(last_activity, at)
            left -= 1
            continue
        # An order, awarded pending, released 14 days later (if that day has come).
        pending_now = at >= pending_cutoff
        tier = program.tier_for(lifetime_tier)
        eligible = (Decimal(int(rng.lognormvariate(3.9, 0.6) * 100) + 500) / 100).quantize(CENT)
        points = int(eligible * program.earn_rate * tier.multiplier)
        order_id = SHOPIFY_ORDER_BASE + customer_id * 10_000 + order_number
        order_number += 1
        name = f"#{order_id - SHOPIFY_ORDER_BASE}"
        gateway, method, _ = usual_payment if rng.random() < 0.7 else _weighted(rng, PAYMENTS)
        title, code, kind, _ = usual_delivery if rng.random() < 0.7 else _weighted(rng, DELIVERIES)
        channel = "pos" if kind == "pickup" and rng.random() < 0.3 else "web"
        shipping = Decimal("0.00") if kind == "pickup" else Decimal("4.90")
        total = (eligible * Decimal("1.08") + shipping).quantize(Decimal("0.01"))
        available_at = at + timedelta(days=PENDING_DAYS)
        multiplier = str(tier.multiplier)
        # Moments are formatted once each; the JSON, of plain values, written directly.
        at_text, available_text = m(at), m(available_at)
        facts = (
            f'{{"lines": {{"{order_id * 10 + 1}": [1, "{eligible}"]}}, "shipping": "0", '
            '"refunded": {}, "refunded_shipping": "0"}'
        )
        orders[order_id] = [
            shop_id,
            order_id,
            customer_id,
            name,
            "pos" if channel == "pos" else "web",
            encode.flag(False),
            "USD",
            str(total),
            gateway,
            method,
            None if channel == "pos" else title,
            None if channel == "pos" else code,
            "pos" if channel == "pos" else kind,
            facts,
            str(eligible),
            at_text,
            "awarded",
            at_text,
            "1.000000",
            f"{tier.multiplier:.6f}",
            points,
            0,
            "0.00",
            points if pending_now else 0,
            available_text,
            at_text,
            at_text if pending_now else available_text,
        ]
        details = (
            f'{{"order_name": "{name}", "eligible_amount": "{eligible}", "currency": "USD", '
            f'"earn_rate": "1", "tier": "{tier.key}", "multiplier": "{multiplier}", '
            f'"pending_days": {PENDING_DAYS}, "channel": "{channel}"}}'
        )
        entries.append(
            (
                at,
                (
                    shop_id,
                    customer_id,
                    "order_award",
                    "order",
                    f"order:{order_id}:award",
                    0,
                    points,
                    points,
                    at_text,
                    order_id,
                    None,
                    details,
                    None,
                    None,
                    at_text,
                ),
            )
        )
        left -= 1
        if at >= tier_since:
            tier_points += points
        lifetime_tier += points
        last_activity = max(last_activity, at)
        last_order = max(last_order or at, at)
        if pending_now:
            pending += points
            continue
        entries.append(
            (
                available_at,
                (
                    shop_id,
                    customer_id,
                    "pending_release",
                    "order",
                    f"order:{order_id}:release",
                    points,
                    -points,
                    0,
                    None,
                    order_id,
                    None,
                    f'{{"order_name": "{name}"}}',
                    None,
                    None,
                    available_text,
                ),
            )
        )
        left -= 1
        balance += points
        last_activity = max(last_activity, available_at)
        released.append((order_id, name, points, at, multiplier, eligible))

    rows.orders.extend(tuple(order) for order in orders.values())
    entries.sort(key=lambda item: item[0])
    rows.entries.extend(row for _, row in entries)
    consent = rng.choices((True, False, None), weights=(60, 25, 15))[0]
    rows.customers.append(
        (
            customer_id,
            shop_id,
            SHOPIFY_CUSTOMER_BASE + customer_id,
            email,
            first,
            last,
            encode.flag(True),
            m(joined),
            encode.flag(consent),
            None if consent is None else m(joined),
            balance,
            pending,
            tier_points,
            program.tier_for(tier_points).key,
            m(tier_since),
            m(last_activity),
            m(last_order),
            m(joined),
            m(max(last_activity, joined)),
        )
    )


def build_chunk(
    plan: ShopPlan,
    chunk: int,
    shop_id: int,
    program: ProgramSettings,
    now: datetime,
    encode: Encoder,
    seed: int,
) -> MemberRows:
    rng = random.Random(f"{seed}:{plan.number}:{chunk}")
    start, stop = plan.chunk_range(chunk)
    counts = entry_counts(rng, stop - start, plan.entries_for(start, stop))
    rows = MemberRows()
    for offset, count in enumerate(counts):
        customer_id = plan.first_customer_id + start + offset
        build_member(rng, encode, shop_id, program, customer_id, count, now, rows)
    return rows


# ---------------------------------------------------------------------------- loading


class Loader:
    """Bulk inserts for one dialect, inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def load(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        if not rows:
            return
        if self.dialect == "postgresql":
            self._copy(table, columns, rows)
        else:
            placeholders = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(sql, rows)
            cursor.close()

    def _copy(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            batch: list[str] = []
            for row in rows:
                batch.append("\t".join(_copy_field(v) for v in row))
                if len(batch) >= 5_000:
                    copy.write("\n".join(batch) + "\n")
                    batch.clear()
            if batch:
                copy.write("\n".join(batch) + "\n")


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        # JSON may hold backslashes; COPY's text format escapes them (no tabs or newlines occur).
        return value.replace("\\", "\\\\") if "\\" in value else value
    return str(value)


# ---------------------------------------------------------------------------- state


def read_state(connection: Connection) -> dict[str, str]:
    connection.execute(
        text(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name VARCHAR(64) PRIMARY KEY, value TEXT)")
    )
    return {
        str(name): str(value)
        for name, value in connection.execute(text(f"SELECT name, value FROM {STATE_TABLE}"))
    }


def write_state(connection: Connection, name: str, value: str) -> None:
    connection.execute(text(f"DELETE FROM {STATE_TABLE} WHERE name = :name"), {"name": name})
    connection.execute(
        text(f"INSERT INTO {STATE_TABLE} (name, value) VALUES (:name, :value)"),
        {"name": name, "value": value},
    )


def secondary_indexes(connection: Connection) -> list[tuple[str, str]]:
    """(name, definition) of the big tables' indexes other than primary keys and, on SQLite,
    the unique constraints (which cannot be dropped there)."""
    tables = ", ".join(f"'{t}'" for t in BIG_TABLES)
    if connection.dialect.name == "sqlite":
        result = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                f"AND sql IS NOT NULL AND tbl_name IN ({tables})"
            )
        )
        return [(str(n), str(s)) for n, s in result]
    result = connection.execute(
        text(
            "SELECT i.indexname, i.indexdef, c.conname, c.contype, c.conrelid::regclass::text, "
            "pg_get_constraintdef(c.oid) FROM pg_indexes i "
            "LEFT JOIN pg_constraint c ON c.conname = i.indexname "
            "AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = i.schemaname) "
            f"WHERE i.schemaname = current_schema() AND i.tablename IN ({tables})"
        )
    )
    out = []
    for name, definition, constraint, kind, table, constraint_def in result:
        if kind == "p":
            continue
        if constraint is not None:
            # A unique constraint: drop and add it back as a constraint, as Alembic made it.
            out.append((str(name), f"ALTER TABLE {table} ADD CONSTRAINT {name} {constraint_def}"))
        else:
            out.append((str(name), str(definition)))
    return out


def drop_index(connection: Connection, name: str, definition: str) -> None:
    if definition.startswith("ALTER TABLE"):
        table = definition.split()[2]
        connection.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"))
    else:
        connection.execute(text(f"DROP INDEX IF EXISTS {name}"))


# ---------------------------------------------------------------------------- progress


class ProgressBar:
    """A one-line bar on stderr: done/total, rate, elapsed and time left."""

    def __init__(self, total: int, unit: str) -> None:
        self.total, self.unit, self.done = total, unit, 0
        self.started = time.monotonic()

    def advance(self, count: int, note: str = "") -> None:
        self.done += count
        elapsed = time.monotonic() - self.started
        share = self.done / self.total if self.total else 1.0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * int(30 * share)
        sys.stderr.write(
            f"\r[{bar:<30}] {share:6.1%} {self.done:,}/{self.total:,} {self.unit} "
            f"{rate:,.0f}/s {_clock(elapsed)} elapsed, {_clock(left)} left {note:<24}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


# ---------------------------------------------------------------------------- the build


@dataclass(frozen=True)
class BuildReport:
    built_now: bool
    seconds: float
    shops: list[str]
    members: int
    entries: int


def migrate(database_url: str) -> None:
    # "heads": branches in flight each add a migration after the same parent until merged.
    with migration_connection(database_url) as (config, _):
        alembic_command.upgrade(config, "heads")


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database named in the URL if it does not exist yet."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() != "postgresql" or not url.database:
        return
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()


def bulk_engine(database_url: str) -> Engine:
    engine = create_engine(database_url)
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_shops(connection: Connection, plans: list[ShopPlan], now: datetime) -> dict[str, int]:
    encode = Encoder(connection.dialect.name)
    # PostgreSQL takes the datetime itself; SQLite the text SQLAlchemy would store.
    moment: Any = encode.moment if encode.sqlite else (lambda value: value)
    cipher = TokenCipher(TOKEN_ENCRYPTION_KEY)
    program = ProgramSettings.from_dict({"pending_days": PENDING_DAYS}).to_dict()
    ids: dict[str, int] = {}
    for plan in plans:
        found = connection.execute(
            text("SELECT id FROM shops WHERE domain = :d"), {"d": plan.domain}
        ).scalar()
        if found is None:
            found = connection.execute(
                text(
                    "INSERT INTO shops (domain, name, currency, access_token_enc, scopes, "
                    "installed_at, last_installed_at, program, program_updated_at, "
                    "tiers_aged_until, created_at) VALUES (:domain, :name, 'USD', :token, "
                    "'read_customers,read_orders,write_discounts', :now, :now, :program, :now, "
                    ":aged, :now) RETURNING id"
                ),
                {
                    "domain": plan.domain,
                    "name": f"Bench shop {plan.number}",
                    "token": cipher.encrypt(f"shpat_bench_{plan.number}"),
                    "now": moment(now),
                    "program": json.dumps(program),
                    "aged": moment(now - timedelta(days=365)),
                },
            ).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO rewards (shop_id, title, points_cost, reward_type, value, "
                    "active, created_at) VALUES (:shop, '$5 off', 500, 'fixed_amount', "
                    ":value, :active, :now)"
                ),
                {
                    "shop": found,
                    "value": "5.00" if encode.sqlite else Decimal("5.00"),
                    "active": True,
                    "now": moment(now),
                },
            )
        ids[plan.domain] = int(found)
    return ids


def build(
    database_url: str,
    members: int,
    entries: int,
    other_shops: int = 2,
    seed: int = 1,
    progress: bool = True,
) -> BuildReport:
    started = time.monotonic()
    plans = plan_shops(members, entries, other_shops)
    wanted = json.dumps(
        {"members": members, "entries": entries, "other_shops": other_shops, "seed": seed}
    )
    ensure_database(database_url)
    migrate(database_url)
    engine = bulk_engine(database_url)
    try:
        with engine.begin() as connection:
            state = read_state(connection)
            if state.get("plan", wanted) != wanted:
                raise SystemExit(
                    f"this database was seeded with {state['plan']}; use another database "
                    f"for {wanted}"
                )
            if state.get("status") == "built":
                built_now = _ensure_preferences(connection, progress)
                return _report(built_now, started, plans)
            if "plan" not in state:
                taken = connection.execute(text("SELECT COUNT(*) FROM customers")).scalar_one()
                if taken:
                    raise SystemExit("the database already holds customers: give an empty one")
                now = datetime.now(UTC).replace(microsecond=0)
                write_state(connection, "plan", wanted)
                write_state(connection, "now", now.isoformat())
                write_state(connection, "indexes", json.dumps(secondary_indexes(connection)))
                state = read_state(connection)
            now = datetime.fromisoformat(state["now"])
            indexes = [tuple(pair) for pair in json.loads(state["indexes"])]
            for name, definition in indexes:
                drop_index(connection, name, definition)
            shop_ids = create_shops(connection, plans, now)
        _load_chunks(engine, plans, shop_ids, now, seed, progress)
        _finish(engine, indexes, progress)
        with engine.begin() as connection:
            _ensure_preferences(connection, progress)
            write_state(connection, "status", "built")
    finally:
        engine.dispose()
    return _report(True, started, plans)


def _load_chunks(
    engine: Engine,
    plans: list[ShopPlan],
    shop_ids: dict[str, int],
    now: datetime,
    seed: int,
    progress: bool,
) -> None:
    program = ProgramSettings.from_dict({"pending_days": PENDING_DAYS})
    total = sum(p.entries for p in plans)
    with engine.connect() as connection:
        done = {
            k
            for (k,) in connection.execute(
                text(f"SELECT name FROM {STATE_TABLE} WHERE name LIKE 'chunk:%'")
            )
        }
    bar = ProgressBar(total, "entries") if progress else None
    for plan in plans:
        for chunk in range(plan.chunks()):
            start, stop = plan.chunk_range(chunk)
            key = f"chunk:{plan.number}:{chunk}"
            if key in done:
                if bar:
                    bar.advance(plan.entries_for(start, stop), "(already loaded)")
                continue
            with engine.begin() as connection:
                encode = Encoder(connection.dialect.name)
                rows = build_chunk(plan, chunk, shop_ids[plan.domain], program, now, encode, seed)
                loader = Loader(connection)
                if connection.dialect.name == "postgresql":
                    # Generated rows are consistent by construction: skip the per-row FK triggers.
                    connection.execute(text("SET LOCAL session_replication_role = replica"))
                    connection.execute(text("SET LOCAL synchronous_commit = off"))
                loader.load("customers", CUSTOMER_COLUMNS, rows.customers)
                loader.load("orders", ORDER_COLUMNS, rows.orders)
                loader.load("ledger_entries", LEDGER_COLUMNS, rows.entries)
                write_state(connection, key, str(len(rows.entries)))
            if bar:
                bar.advance(len(rows.entries), f"{plan.domain}")
    if bar:
        bar.close()


def _finish(engine: Engine, indexes: Iterable[tuple[str, ...]], progress: bool) -> None:
    """Rebuild the dropped indexes, move the id sequences past the loaded ids, analyze."""
    with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SET maintenance_work_mem = '1GB'"))
            connection.execute(text("SET max_parallel_maintenance_workers = 1"))
        for name, definition in indexes:
            if progress:
                print(f"  index {name} …", file=sys.stderr, flush=True)
            drop_index(connection, name, definition)
            connection.execute(text(definition))
        if postgres:
            for table in LOADED_TABLES:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
    if progress:
        print("  analyze …", file=sys.stderr, flush=True)
    if engine.dialect.name == "postgresql":
        # VACUUM (for index-only scans' visibility map) cannot run inside a transaction.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {', '.join(LOADED_TABLES)}"))
    else:
        with engine.begin() as connection:  # committed: a plain connect() rolled it back
            connection.exec_driver_sql("ANALYZE")


# The most frequent value among a customer's last five paid orders that teach it; ties go to
# the most recent (issue 10). POS and pickup orders teach no delivery preference.
LEARNED_PREFERENCE = """
INSERT INTO customer_preferences (shop_id, customer_id, kind, source, value, handle, updated_at)
SELECT shop_id, customer_id, '{kind}', 'learned', value, handle, last_at FROM (
  SELECT shop_id, customer_id, value, handle, last_at, ROW_NUMBER() OVER (
    PARTITION BY customer_id ORDER BY uses DESC, last_at DESC) AS place
  FROM (
    SELECT shop_id, customer_id, value, handle, COUNT(*) AS uses, MAX(paid_at) AS last_at
    FROM (
      SELECT shop_id, customer_id, {value} AS value, {handle} AS handle, paid_at,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY paid_at DESC) AS recent
      FROM orders WHERE customer_id IS NOT NULL AND paid_at IS NOT NULL AND {teaches}
    ) AS latest WHERE recent <= 5
    GROUP BY shop_id, customer_id, value, handle
  ) AS counted
) AS ranked WHERE place = 1
"""
# One member in 20 picked their own: their learned choice, now explicit.
CHOSEN_PREFERENCE = """
INSERT INTO customer_preferences (shop_id, customer_id, kind, source, value, handle, updated_at)
SELECT shop_id, customer_id, kind, 'chosen', value, handle, updated_at
FROM customer_preferences WHERE source = 'learned' AND customer_id % 20 = 0
"""


def _ensure_preferences(connection: Connection, progress: bool) -> bool:
    """Fill ``customer_preferences`` from the orders, once, on a schema that has learned and
    chosen preferences (migration 0010 rebuilt the table). Returns whether it did."""
    columns = set(connection.execute(text("SELECT * FROM customer_preferences WHERE 1 = 0")).keys())
    if "source" not in columns or read_state(connection).get("preferences") == "derived":
        return False
    if progress:
        print("  preferences learned from the orders …", file=sys.stderr, flush=True)
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL work_mem = '512MB'"))
    connection.execute(text("DELETE FROM customer_preferences"))
    for kind, value, handle, teaches in (
        ("payment", "payment_method_name", "payment_gateway", "payment_method_name IS NOT NULL"),
        (
            "delivery",
            "delivery_title",
            "delivery_code",
            "delivery_title IS NOT NULL AND delivery_kind NOT IN ('pos', 'pickup')",
        ),
    ):
        connection.execute(
            text(LEARNED_PREFERENCE.format(kind=kind, value=value, handle=handle, teaches=teaches))
        )
    connection.execute(text(CHOSEN_PREFERENCE))
    write_state(connection, "preferences", "derived")
    return True


def _report(built_now: bool, started: float, plans: list[ShopPlan]) -> BuildReport:
    return BuildReport(
        built_now=built_now,
        seconds=time.monotonic() - started,
        shops=[p.domain for p in plans],
        members=sum(p.members for p in plans),
        entries=sum(p.entries for p in plans),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, required=True, help="members of the main shop")
    parser.add_argument("--entries", type=int, required=True, help="ledger entries of it")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--other-shops", type=int, default=2, help="shops with 5 %% as many")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report = build(args.database_url, args.members, args.entries, args.other_shops, args.seed)
    verb = "built" if report.built_now else "already built"
    print(
        f"{verb}: {report.members:,} members and {report.entries:,} ledger entries in "
        f"{len(report.shops)} shops ({', '.join(report.shops)}); {report.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()

"""The express lane's SQL (``express``), per database: PostgreSQL in three statements and two
round trips (a CTE inserts and locks; one reads the customer and its history after the lock, sent
with it; a CTE writes, sent with the COMMIT), SQLite in a few plain statements (in-process, so
each costs microseconds, not a round trip).

Values arrive bound as SQLAlchemy's column types bind them (``Values``), JSON as text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect

from ..models import Customer, LedgerEntry, Order, OrderEvent, UTCDateTime, WebhookReceipt
from .locks import suppression_key

CUSTOMER_COLUMNS = (
    "id",
    "is_member",
    "member_since",
    "redacted_at",
    "points_balance",
    "pending_points",
    "tier_points",
    "tier_key",
    "tier_counted_since",
    "last_activity_at",
    "last_order_at",
)
ORDER_FIELDS = (
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
    "processed_at",
    "paid_at",
    "award_status",
    "awarded_at",
    "earn_rate",
    "multiplier",
    "awarded_points",
    "refunded_eligible",
    "pending_remaining",
    "available_at",
    "updated_at",
)
CUSTOMER_FIELDS = (
    "is_member",
    "member_since",
    "points_balance",
    "pending_points",
    "tier_points",
    "tier_key",
    "last_activity_at",
    "last_order_at",
    "sync_requested_at",
    "updated_at",
)
IDENTITY = ("email", "first_name", "last_name")
EVENT_COLUMNS = (
    "shop_id",
    "shopify_order_id",
    "kind",
    "source_id",
    "facts",
    "received_at",
    "applied_at",
)
ENTRY_COLUMNS = (
    "shop_id",
    "customer_id",
    "kind",
    "source",
    "idempotency_key",
    "points",
    "pending_points",
    "tier_points",
    "tier_counted_at",
    "processed_at",
    "shopify_order_id",
    "source_ref",
    "details",
    "reason",
    "actor",
    "created_at",
)
LINE_COLUMNS = ("shop_id", "shopify_order_id", "line_id", "product_id", "variant_id", "title")

# The customer's later history: anything that counts for tiers processed after this order (a late
# delivery re-tiers those: the general path's job), and whether a welcome bonus was ever paid.
# ``c`` is the customer row; the order being recorded is still ``waiting``, so it never counts.
LATER_AND_WELCOME = """
  EXISTS (SELECT 1 FROM ledger_entries l
          WHERE l.shop_id = c.shop_id AND l.customer_id = c.id AND l.tier_points <> 0
            AND COALESCE(l.processed_at, l.created_at) > %(moment)s)
  OR EXISTS (SELECT 1 FROM orders o
             WHERE o.shop_id = c.shop_id AND o.customer_id = c.id
               AND o.award_status = 'awarded' AND o.processed_at > %(moment)s
               AND o.shopify_order_id <> %(order_id)s),
  EXISTS (SELECT 1 FROM ledger_entries w
          WHERE w.shop_id = c.shop_id AND w.idempotency_key = 'welcome:' || c.id)
"""
# The customer after its lock, with its history: on PostgreSQL a statement of its own (a fresh
# snapshot, so it sees what the holder of the lock committed), sent in the first statement's round
# trip; it finds the customer by the same keys the first statement locked it by.
CUSTOMER_AFTER_LOCK = f"""
SELECT {", ".join(f"c.{name}" for name in CUSTOMER_COLUMNS)}, {LATER_AND_WELCOME}
FROM customers c
WHERE c.shop_id = (SELECT id FROM shops WHERE domain = %(domain)s)
  AND c.shopify_customer_id = %(customer_id)s
"""
RECEIPT_VALUES = (
    "%(webhook_id)s, %(topic)s, %(event_id)s, %(api_version)s, %(triggered_at)s, %(now)s"
)
ORDER_INSERT = """INSERT INTO orders (shop_id, shopify_order_id, award_status, awarded_points,
  reversed_points, refunded_eligible, pending_remaining, is_test, created_at, updated_at)"""
# PostgreSQL's claim of the order also writes its indexed columns as the award will (the
# customer, processed_at, paid_at): the award's update then changes no indexed column and can
# stay on the row's page without new index entries (a HOT update, when the page has room).
PG_ORDER_INSERT = """INSERT INTO orders (shop_id, shopify_order_id, award_status, awarded_points,
  reversed_points, refunded_eligible, pending_remaining, is_test, customer_id, processed_at,
  paid_at, created_at, updated_at)"""
CUSTOMER_INSERT = """INSERT INTO customers (shop_id, shopify_customer_id, is_member,
  points_balance, pending_points, tier_points, created_at, updated_at)"""


@dataclass
class First:
    """What the first statement found: the shop, whether the receipt and the order are new, and
    the locked customer row (with ``created`` and ``suppressed``: an erased customer's return)
    and its later history (read after the lock)."""

    shop_id: int
    program: Any
    currency: str
    receipt: bool
    order_pk: int | None
    customer: dict[str, Any] | None
    later: bool = False  # anything of the customer's that counts for tiers processed later
    welcome_paid: bool = False


@dataclass
class Write:
    """Every row the delivery writes, as column → Python value (``express`` computes them)."""

    shop_id: int
    order_pk: int
    order: dict[str, Any]
    event: dict[str, Any]
    entries: list[dict[str, Any]]
    customer: dict[str, Any]
    lines: list[dict[str, Any]]


MODELS = (Customer, LedgerEntry, Order, OrderEvent, WebhookReceipt)


def _decimal_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


class Values:
    """Python values as SQLAlchemy's column types bind and load them (UTC datetimes, exact
    decimals, JSON text), so both paths store identical rows."""

    def __init__(self, dialect: Dialect) -> None:
        self.binders: dict[tuple[str, str], Any] = {}
        self.loaders: dict[tuple[str, str], Any] = {}
        self.json: set[tuple[str, str]] = set()
        # Per table, the binders of its non-JSON columns (``document``'s look-up, by name).
        self.table_binders: dict[str, dict[str, Any]] = {}
        for model in MODELS:
            table: Table = model.__table__  # type: ignore[assignment]
            by_name = self.table_binders.setdefault(table.name, {})
            for column in table.columns:
                key = (table.name, column.name)
                if isinstance(column.type, JSON):
                    self.json.add(key)
                    continue
                binder = column.type._cached_bind_processor(dialect)  # noqa: SLF001
                if binder is not None:
                    self.binders[key] = binder
                    by_name[column.name] = binder
                if isinstance(column.type, UTCDateTime):  # the only type loaded back
                    loader = column.type._cached_result_processor(dialect, None)  # noqa: SLF001
                    if loader is not None:
                        self.loaders[key] = loader

    def bind(self, model: type[Any], column: str, value: Any) -> Any:
        key = (model.__tablename__, column)
        if key in self.json:
            return json.dumps(value)
        binder = self.binders.get(key)
        return value if binder is None or value is None else binder(value)

    def document(self, model: type[Any], row: dict[str, Any]) -> str:
        """``row`` as a JSON document for ``json_populate_record``: each value bound as its
        column binds it (exact decimals as text, aware UTC times), JSON columns nested."""
        binders = self.table_binders[model.__tablename__]
        bound = {}
        for column, value in row.items():
            binder = binders.get(column)
            bound[column] = value if binder is None or value is None else binder(value)
        return orjson.dumps(bound, default=_decimal_text).decode()

    def load(self, model: type[Any], column: str, value: Any) -> Any:
        loader = self.loaders.get((model.__tablename__, column))
        return value if loader is None or value is None else loader(value)


class Postgres:
    def __init__(self, values: Values) -> None:
        self.values = values

    FIRST = f"""
WITH shop AS (
  -- Held until the commit, as the shops foreign key held it (plugin/models.py, ShopKey).
  SELECT id, program::text AS program, currency FROM shops WHERE domain = %(domain)s
  FOR KEY SHARE
), receipt AS (
  INSERT INTO webhook_receipts (shop_id, webhook_id, topic, event_id, api_version,
                                triggered_at, received_at)
  SELECT id, {RECEIPT_VALUES} FROM shop
  ON CONFLICT (shop_id, webhook_id) DO NOTHING
  RETURNING shop_id
), new_order AS (
  {PG_ORDER_INSERT}
  SELECT shop_id, %(order_id)s, 'waiting', 0, 0, 0, 0, false,
         (SELECT id FROM customers
          WHERE shop_id = receipt.shop_id AND shopify_customer_id = %(customer_id)s),
         %(processed_at)s, %(now)s, %(now)s, %(now)s
  FROM receipt
  ON CONFLICT (shop_id, shopify_order_id) DO NOTHING
  RETURNING id, shop_id
), customer AS (
  -- Inserted if new; if not, locked without a new row version (``WHERE false`` locks the
  -- conflicting row and updates nothing): CUSTOMER_AFTER_LOCK reads it.
  {CUSTOMER_INSERT}
  SELECT shop_id, %(customer_id)s, false, 0, 0, 0, %(now)s, %(now)s FROM new_order
  ON CONFLICT (shop_id, shopify_customer_id) DO UPDATE SET updated_at = EXCLUDED.updated_at
  WHERE false
  RETURNING id
)
SELECT shop.id, shop.program, shop.currency, EXISTS (SELECT 1 FROM receipt),
       (SELECT id FROM new_order), EXISTS (SELECT 1 FROM customer),
       EXISTS (SELECT 1 FROM redacted_customers r
               WHERE r.shop_id = shop.id
                 AND r.customer_key = encode(sha256(convert_to(
                     'kanta:' || shop.id || ':' || %(customer_id)s::bigint, 'UTF8')), 'hex'))
FROM shop
"""
    # The rows travel as JSON documents, typed by the tables' own row types
    # (``json_populate_record``): a handful of parameters however many columns and rows, so the
    # driver converts the query once and the server keeps it prepared.
    WRITE = f"""
WITH o AS (
  UPDATE orders SET ({", ".join(ORDER_FIELDS)}) = ({", ".join(f"d.{f}" for f in ORDER_FIELDS)})
  FROM json_populate_record(NULL::orders, %(order)s::json) AS d
  WHERE orders.id = %(order_pk)s
  RETURNING 1
), e AS (
  INSERT INTO order_events ({", ".join(EVENT_COLUMNS)})
  SELECT {", ".join(EVENT_COLUMNS)} FROM json_populate_record(NULL::order_events, %(event)s::json)
  ON CONFLICT (shop_id, kind, source_id) DO NOTHING
  RETURNING 1
), l AS (
  INSERT INTO ledger_entries ({", ".join(ENTRY_COLUMNS)})
  SELECT {", ".join(f"r.{f}" for f in ENTRY_COLUMNS)}
  FROM json_array_elements(%(entries)s::json) WITH ORDINALITY AS x(doc, n)
  CROSS JOIN LATERAL json_populate_record(NULL::ledger_entries, x.doc) AS r
  ORDER BY x.n
  RETURNING 1
), c AS (
  UPDATE customers
  SET {", ".join(f"{f} = COALESCE(d.{f}, customers.{f})" for f in IDENTITY)},
      {", ".join(f"{f} = d.{f}" for f in CUSTOMER_FIELDS)}
  FROM json_populate_record(NULL::customers, %(customer)s::json) AS d
  WHERE customers.id = %(customer_pk)s
  RETURNING 1
), li AS (
  INSERT INTO order_lines ({", ".join(LINE_COLUMNS)}, quantity)
  SELECT {", ".join(LINE_COLUMNS)}, quantity
  FROM json_populate_recordset(NULL::order_lines, %(lines)s::json)
  ON CONFLICT (shop_id, shopify_order_id, line_id) DO UPDATE
  SET product_id = EXCLUDED.product_id, variant_id = EXCLUDED.variant_id,
      title = EXCLUDED.title, quantity = EXCLUDED.quantity
  RETURNING 1
)
-- An assertion inside the statement: the paid event already kept (it never is, for an order
-- just inserted) divides by zero, so the transaction fails before its COMMIT, which is sent
-- with this statement in one round trip (``Database.raw_transaction``'s pipeline).
SELECT 1 / (SELECT count(*) FROM e)
"""

    def first(self, cursor: Any, params: dict[str, Any]) -> First | None:
        # Both statements go in one round trip (``postgres.Pipeline``): the second runs after
        # the first has taken the customer's lock, on a snapshot of its own.
        first = cursor.execute(self.FIRST, params)
        after_lock = cursor.execute(CUSTOMER_AFTER_LOCK, params)
        row = first.fetchone()
        found = after_lock.fetchone()
        if row is None:
            return None
        shop_id, program, currency, receipt, order_pk, created, suppressed = row
        if not receipt or order_pk is None or found is None:
            return First(shop_id, program, currency, receipt, order_pk, None)
        columns = len(CUSTOMER_COLUMNS)
        customer = {
            name: self.values.load(Customer, name, value)
            for name, value in zip(CUSTOMER_COLUMNS, found[:columns], strict=True)
        }
        customer["created"] = created
        customer["suppressed"] = created and bool(suppressed)
        later, welcome = found[columns:]
        return First(
            shop_id, program, currency, receipt, order_pk, customer, bool(later), bool(welcome)
        )

    def write(self, cursor: Any, w: Write) -> bool:
        doc = self.values.document
        params = {
            "order_pk": w.order_pk,
            "customer_pk": w.customer["id"],
            "order": doc(Order, {f: w.order[f] for f in ORDER_FIELDS}),
            "event": doc(OrderEvent, w.event),
            "entries": "[" + ",".join(doc(LedgerEntry, e) for e in w.entries) + "]",
            "customer": doc(Customer, w.customer),
            "lines": orjson.dumps(w.lines).decode(),
        }
        cursor.execute(self.WRITE, params)  # its answer comes with the COMMIT's
        return True


def _sqlite(sql: str) -> str:
    """``%(name)s`` (psycopg) spelled ``:name`` (sqlite3)."""
    return re.sub(r"%\((\w+)\)s", r":\1", sql)


class SQLite:
    SHOP = _sqlite("SELECT id, program, currency FROM shops WHERE domain = %(domain)s")
    RECEIPT = _sqlite(
        "INSERT INTO webhook_receipts (shop_id, webhook_id, topic, event_id, api_version, "
        f"triggered_at, received_at) VALUES (%(shop_id)s, {RECEIPT_VALUES}) "
        "ON CONFLICT (shop_id, webhook_id) DO NOTHING RETURNING id"
    )
    ORDER = _sqlite(
        f"{ORDER_INSERT} VALUES (%(shop_id)s, %(order_id)s, 'waiting', 0, 0, '0.00', 0, 0, "
        "%(now)s, %(now)s) ON CONFLICT (shop_id, shopify_order_id) DO NOTHING RETURNING id"
    )
    CUSTOMER = _sqlite(
        f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customers "
        "WHERE shop_id = %(shop_id)s AND shopify_customer_id = %(customer_id)s"
    )
    NEW_CUSTOMER = _sqlite(
        f"{CUSTOMER_INSERT} VALUES (%(shop_id)s, %(customer_id)s, 0, 0, 0, 0, %(now)s, %(now)s) "
        f"RETURNING {', '.join(CUSTOMER_COLUMNS)}"
    )
    SUPPRESSED = _sqlite(
        "SELECT 1 FROM redacted_customers WHERE shop_id = %(shop_id)s AND customer_key = %(key)s"
    )
    HISTORY = _sqlite(f"SELECT {LATER_AND_WELCOME} FROM customers c WHERE c.id = %(customer_pk)s")
    ORDER_UPDATE = _sqlite(
        f"UPDATE orders SET {', '.join(f'{f} = %(o_{f})s' for f in ORDER_FIELDS)} "
        "WHERE id = %(order_pk)s"
    )
    EVENT = _sqlite(
        f"INSERT INTO order_events ({', '.join(EVENT_COLUMNS)}) "
        f"VALUES ({', '.join(f'%(e_{f})s' for f in EVENT_COLUMNS)}) "
        "ON CONFLICT (shop_id, kind, source_id) DO NOTHING RETURNING id"
    )
    ENTRY = _sqlite(
        f"INSERT INTO ledger_entries ({', '.join(ENTRY_COLUMNS)}) "
        f"VALUES ({', '.join(f'%({f})s' for f in ENTRY_COLUMNS)})"
    )
    CUSTOMER_UPDATE = _sqlite(
        "UPDATE customers SET "
        + ", ".join(
            [f"{f} = COALESCE(%(c_{f})s, {f})" for f in IDENTITY]
            + [f"{f} = %(c_{f})s" for f in CUSTOMER_FIELDS]
        )
        + " WHERE id = %(customer_pk)s"
    )
    LINE = _sqlite(
        f"INSERT INTO order_lines ({', '.join(LINE_COLUMNS)}, quantity) "
        f"VALUES ({', '.join(f'%({f})s' for f in LINE_COLUMNS)}, %(quantity)s) "
        "ON CONFLICT (shop_id, shopify_order_id, line_id) DO UPDATE "
        "SET product_id = excluded.product_id, variant_id = excluded.variant_id, "
        "title = excluded.title, quantity = excluded.quantity"
    )

    def __init__(self, values: Values) -> None:
        self.values = values  # SQLite returns datetimes as text: loaded as the ORM loads them

    def first(self, cursor: Any, params: dict[str, Any]) -> First | None:
        shop = cursor.execute(self.SHOP, params).fetchone()
        if shop is None:
            return None
        shop_id, program, currency = shop
        params = {**params, "shop_id": shop_id}
        if cursor.execute(self.RECEIPT, params).fetchone() is None:
            return First(shop_id, program, currency, False, None, None)
        order = cursor.execute(self.ORDER, params).fetchone()
        if order is None:
            return First(shop_id, program, currency, True, None, None)
        # Writers are serialised (BEGIN IMMEDIATE): a look-up, then an insert if new, is exact.
        row = cursor.execute(self.CUSTOMER, params).fetchone()
        created = row is None
        if created:
            row = cursor.execute(self.NEW_CUSTOMER, params).fetchone()
        customer = {
            name: self.values.load(Customer, name, value)
            for name, value in zip(CUSTOMER_COLUMNS, row, strict=True)
        }
        customer["is_member"] = bool(customer["is_member"])
        customer["created"] = created
        customer["suppressed"] = customer["created"] and (
            cursor.execute(
                self.SUPPRESSED,
                {"shop_id": shop_id, "key": suppression_key(shop_id, params["customer_id"])},
            ).fetchone()
            is not None
        )
        later = welcome = False
        if not created:
            params["customer_pk"] = customer["id"]
            later, welcome = cursor.execute(self.HISTORY, params).fetchone()
        return First(
            shop_id, program, currency, True, order[0], customer, bool(later), bool(welcome)
        )

    def write(self, cursor: Any, w: Write) -> bool:
        bind = self.values.bind
        params: dict[str, Any] = {"order_pk": w.order_pk, "customer_pk": w.customer["id"]}
        params.update({f"o_{f}": bind(Order, f, w.order[f]) for f in ORDER_FIELDS})
        cursor.execute(self.ORDER_UPDATE, params)
        event = {f"e_{f}": bind(OrderEvent, f, w.event[f]) for f in EVENT_COLUMNS}
        if cursor.execute(self.EVENT, event).fetchone() is None:
            return False
        cursor.executemany(
            self.ENTRY,
            [{f: bind(LedgerEntry, f, e[f]) for f in ENTRY_COLUMNS} for e in w.entries],
        )
        params.update({f"c_{f}": w.customer[f] for f in IDENTITY})
        params.update({f"c_{f}": bind(Customer, f, w.customer[f]) for f in CUSTOMER_FIELDS})
        cursor.execute(self.CUSTOMER_UPDATE, params)
        if w.lines:
            cursor.executemany(self.LINE, w.lines)
        return True


Statements = Postgres | SQLite


@cache
def for_dialect(dialect: Dialect) -> Statements:
    values = Values(dialect)
    if dialect.name == "postgresql":
        return Postgres(values)
    if dialect.name == "sqlite":
        return SQLite(values)
    raise NotImplementedError(dialect.name)

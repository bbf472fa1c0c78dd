"""What both databases' statements share: the columns each path reads and writes, the SQL
fragments spelled alike, the first statement's findings (``First``), the rows to write
(``Write``) and the values bound as SQLAlchemy binds them (``Values``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect

from ...models import Customer, LedgerEntry, Order, OrderEvent, UTCDateTime, WebhookReceipt

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

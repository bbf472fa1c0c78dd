"""SQLite: a few plain statements, in-process (see the package docstring)."""

from __future__ import annotations

import re
from typing import Any

from ...models import Customer, LedgerEntry, Order, OrderEvent
from ..locks import suppression_key
from .common import (
    CUSTOMER_COLUMNS,
    CUSTOMER_FIELDS,
    CUSTOMER_INSERT,
    ENTRY_COLUMNS,
    EVENT_COLUMNS,
    IDENTITY,
    LATER_AND_WELCOME,
    LINE_COLUMNS,
    ORDER_FIELDS,
    ORDER_INSERT,
    RECEIPT_VALUES,
    First,
    Values,
    Write,
)


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

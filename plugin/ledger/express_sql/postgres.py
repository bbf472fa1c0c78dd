"""PostgreSQL: three statements in two round trips (see the package docstring)."""

from __future__ import annotations

from typing import Any

import orjson

from ...models import Customer, LedgerEntry, Order, OrderEvent
from .common import (
    CUSTOMER_AFTER_LOCK,
    CUSTOMER_COLUMNS,
    CUSTOMER_FIELDS,
    CUSTOMER_INSERT,
    ENTRY_COLUMNS,
    EVENT_COLUMNS,
    IDENTITY,
    LINE_COLUMNS,
    ORDER_FIELDS,
    PG_ORDER_INSERT,
    RECEIPT_VALUES,
    First,
    Values,
    Write,
)


class Postgres:
    def __init__(self, values: Values) -> None:
        self.values = values

    FIRST = f"""
WITH shop AS (
  -- Held until the commit, as the shops foreign key held it (plugin/models/types.py, ShopKey).
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

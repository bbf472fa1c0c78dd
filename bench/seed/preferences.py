"""The payment and delivery each member usually picks, learned from their orders as the app
learns them, and for 1 in 20 an explicit choice."""

from __future__ import annotations

import sys

from sqlalchemy import Connection, text

from .state import read_state, write_state

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


def ensure_preferences(connection: Connection, progress: bool) -> bool:
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

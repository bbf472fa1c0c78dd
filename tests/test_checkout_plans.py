"""The widget's per-customer read, as the database plans it: the customer by its unique index,
their latest entries and their preferences from indexes alone (migration 0021), on tables big
enough that the planner would rather not if it could not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from plugin.checkout.loyalty import CUSTOMER_IN_ONE_SQL, CUSTOMER_IN_ONE_SQLITE, RECENT_ENTRIES

CUSTOMERS = 3000
ENTRIES_EACH = 8

SERIES = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "


def _fill(kanta: Any, shop: int) -> None:
    with kanta.db.transaction() as session:
        session.execute(
            text(
                SERIES + "INSERT INTO customers (shop_id, shopify_customer_id, email, is_member,"
                " points_balance, pending_points, tier_points, tier_key, created_at, updated_at)"
                " SELECT :shop, i, 'user' || i || '@example.com', true, 10, 0, 0, 'bronze',"
                " '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n"
            ),
            {"shop": shop, "count": CUSTOMERS},
        )
        session.execute(
            text(
                SERIES + "INSERT INTO ledger_entries (shop_id, customer_id, kind, source,"
                " idempotency_key, points, pending_points, tier_points, details, created_at)"
                " SELECT c.shop_id, c.id, 'order_award', 'order', 'o-' || c.id || '-' || n.i,"
                " n.i, 0, n.i, '{}', '2026-01-01 00:00:00' FROM customers c, n"
                " WHERE c.shop_id = :shop"
            ),
            {"shop": shop, "count": ENTRIES_EACH},
        )
        session.execute(
            text(
                "INSERT INTO customer_preferences (shop_id, customer_id, kind, source, value,"
                " updated_at) SELECT shop_id, id, k.kind, 'learned', 'Visa', '2026-01-01 00:00:00'"
                " FROM customers, (SELECT 'payment' AS kind UNION ALL SELECT 'delivery') k"
                " WHERE shop_id = :shop"
            ),
            {"shop": shop},
        )
    # VACUUM sets the visibility map (autovacuum does in production); it cannot run inside a
    # transaction.
    with kanta.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = "customers, ledger_entries, customer_preferences"
        conn.exec_driver_sql(f"VACUUM ANALYZE {tables}" if not kanta.db.is_sqlite else "ANALYZE")


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def test_the_widgets_read_touches_no_heap_page_of_entries_or_preferences(
    kanta: Any, shop: int
) -> None:
    _fill(kanta, shop)
    shopify_id = CUSTOMERS // 2
    params = {"shop_id": shop, "customer_id": shopify_id, "n": RECENT_ENTRIES}
    if kanta.db.is_sqlite:
        # SQLite has no INCLUDE: the entries' shown columns are in the key; the preferences'
        # value is not (it cannot join a unique key), so only the entries are covered.
        rows = kanta.db.run_cursor_read(
            lambda cursor: cursor.execute(
                f"EXPLAIN QUERY PLAN {CUSTOMER_IN_ONE_SQLITE}", params
            ).fetchall()
        )
        searches = sorted(row[-1] for row in rows if row[-1].startswith(("SEARCH", "SCAN")))
        assert searches == [
            "SCAN e",  # the five rows the subquery kept
            "SEARCH c USING INDEX sqlite_autoindex_customers_1"
            " (shop_id=? AND shopify_customer_id=?)",
            "SEARCH ledger_entries USING COVERING INDEX ix_ledger_customer"
            " (shop_id=? AND customer_id=?)",
            "SEARCH p USING INDEX sqlite_autoindex_customer_preferences_1"
            " (shop_id=? AND customer_id=?)",
        ], searches
        return

    def explain(cursor: Any) -> Any:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {CUSTOMER_IN_ONE_SQL}", params)
        return cursor.fetchone()[0]

    nodes = _nodes(kanta.db.run_cursor_read(explain)[0]["Plan"])
    by_table = {node["Relation Name"]: node for node in nodes if "Relation Name" in node}
    assert by_table["customers"]["Node Type"] == "Index Scan", nodes
    for table, index, rows in (
        ("ledger_entries", "ix_ledger_customer", RECENT_ENTRIES),
        ("customer_preferences", "customer_preferences_shop_id_customer_id_kind_source_key", 2),
    ):
        node = by_table[table]
        assert (node["Node Type"], node["Index Name"]) == ("Index Only Scan", index), node
        assert node["Actual Rows"] == rows, node
        assert node["Heap Fetches"] == 0, node

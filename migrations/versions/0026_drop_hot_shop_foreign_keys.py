"""Drop the shop foreign keys of the tables every paid order writes

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Every paid order inserts a receipt, an order, its event, a ledger entry and its lines, and
# writes its customer: with these keys PostgreSQL ran a query and took a lock on the shop's one
# shops row for each of them, nine a delivery (about a tenth of its time per delivery, measured in
# bench/README.md). What the keys guaranteed is kept by locking instead: the writers hold the shop
# row (FOR KEY SHARE) and shop/redact locks it (FOR UPDATE) before deleting the shop's rows
# (plugin/models/types.py, ShopKey). The customers foreign keys of ledger_entries and orders stay.
TABLES = ("customers", "orders", "order_events", "order_lines", "ledger_entries", "webhook_receipts")
# SQLite's foreign keys have no names: named on reflection, so the batch can drop them.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


# SQLite drops a key by copying its table, and a copy (or a reflection) cannot carry an
# expression index (the member search's, migrations 0016 and 0022; the tier moment's, 0024):
# those are dropped first and made again after.
EXPRESSION_INDEXES: dict[str, tuple[str, list[str], str | None]] = {
    "ix_customers_shop_email_prefix": ("customers", ["shop_id", "lower(email)"], None),
    "ix_customers_shop_last_name_prefix": ("customers", ["shop_id", "lower(last_name)"], None),
    "ix_customers_shop_first_last_prefix": (
        "customers",
        ["shop_id", "lower(first_name)", "lower(last_name)"],
        None,
    ),
    "ix_ledger_customer_tier_moment": (
        "ledger_entries",
        ["shop_id", "customer_id", "COALESCE(processed_at, created_at)"],
        "tier_points <> 0",
    ),
}


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _name(table: str) -> str:
    return f"{table}_shop_id_fkey" if _postgresql() else f"fk_{table}_shop_id_shops"


def _each_table(change: str) -> None:
    # On SQLite, a copy reflects the tables it refers to as well (customers, for orders).
    sqlite = not _postgresql()
    if sqlite:
        for index, (table, _, _) in EXPRESSION_INDEXES.items():
            op.drop_index(index, table_name=table)
    for table in TABLES:
        with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
            if change == "drop":
                batch_op.drop_constraint(_name(table), type_="foreignkey")
            else:
                batch_op.create_foreign_key(
                    _name(table), "shops", ["shop_id"], ["id"], ondelete="CASCADE"
                )
    if sqlite:
        for index, (table, columns, where) in EXPRESSION_INDEXES.items():
            op.create_index(
                index,
                table,
                [sa.text(column) for column in columns],
                sqlite_where=None if where is None else sa.text(where),
            )


def upgrade() -> None:
    _each_table("drop")


def downgrade() -> None:
    _each_table("create")

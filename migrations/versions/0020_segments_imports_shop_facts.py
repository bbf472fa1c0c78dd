"""order_lines, collection_products, balance_imports; the shop's plan and country; orders by paid_at

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("plan_display_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("plan_shopify_plus", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("country_code", sa.String(length=2), nullable=True))
        batch.add_column(
            sa.Column("shop_facts_synced_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("orders") as batch:
        batch.create_index("ix_orders_shop_paid", ["shop_id", "paid_at"])
    op.create_table(
        "order_lines",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("shop_id", BigIntPK, nullable=False),
        sa.Column("shopify_order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("variant_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "shopify_order_id", "line_id"),
    )
    op.create_index("ix_order_lines_shop_product", "order_lines", ["shop_id", "product_id"])
    op.create_table(
        "collection_products",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("shop_id", BigIntPK, nullable=False),
        sa.Column("shopify_collection_id", sa.BigInteger(), nullable=False),
        sa.Column("collection_title", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "shopify_collection_id", "product_id"),
    )
    op.create_index(
        "ix_collection_products_shop_product", "collection_products", ["shop_id", "product_id"]
    )
    op.create_table(
        "balance_imports",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("shop_id", BigIntPK, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("points_total", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("csv_text", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_balance_imports_shop", "balance_imports", ["shop_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_balance_imports_shop", table_name="balance_imports")
    op.drop_table("balance_imports")
    op.drop_index("ix_collection_products_shop_product", table_name="collection_products")
    op.drop_table("collection_products")
    op.drop_index("ix_order_lines_shop_product", table_name="order_lines")
    op.drop_table("order_lines")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_shop_paid")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("shop_facts_synced_at")
        batch.drop_column("country_code")
        batch.drop_column("plan_shopify_plus")
        batch.drop_column("plan_display_name")

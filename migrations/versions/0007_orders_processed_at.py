"""orders.processed_at: when Shopify says the order was processed; an order earns at the tier
held then, whatever order the webhooks arrive in

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_orders_shop_customer_processed", "orders", ["shop_id", "customer_id", "processed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_orders_shop_customer_processed", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("processed_at")

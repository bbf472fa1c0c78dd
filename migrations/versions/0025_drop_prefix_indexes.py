"""Drop two indexes that are prefixes of others: customers (shop_id) and orders
(shop_id, customer_id)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every paid delivery inserts an order and rewrites its customer's row (its balance is
    # indexed, so never in place): each index is one more entry to write, and these two answer
    # nothing their longer twins do not, (shop_id, shopify_customer_id) for customers and
    # (shop_id, customer_id, processed_at) for orders.
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_index("ix_customers_shop_id")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_index("ix_orders_shop_customer")


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.create_index("ix_orders_shop_customer", ["shop_id", "customer_id"])
    with op.batch_alter_table("customers") as batch_op:
        batch_op.create_index("ix_customers_shop_id", ["shop_id"])

"""Indexes for the admin's member list: newest members, by tier, and prefix search on
lower(email), lower(first_name), lower(last_name) (text_pattern_ops on PostgreSQL)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

PREFIX_COLUMNS = ("email", "first_name", "last_name")


def upgrade() -> None:
    op.create_index("ix_customers_shop_member_id", "customers", ["shop_id", "is_member", "id"])
    op.create_index("ix_customers_shop_tier_id", "customers", ["shop_id", "tier_key", "id"])
    postgresql = op.get_bind().dialect.name == "postgresql"
    for column in PREFIX_COLUMNS:
        lowered = f"lower({column}) text_pattern_ops" if postgresql else f"lower({column})"
        op.create_index(
            f"ix_customers_shop_{column}_prefix", "customers", [sa.text("shop_id"), sa.text(lowered)]
        )


def downgrade() -> None:
    for column in PREFIX_COLUMNS:
        op.drop_index(f"ix_customers_shop_{column}_prefix", table_name="customers")
    op.drop_index("ix_customers_shop_tier_id", table_name="customers")
    op.drop_index("ix_customers_shop_member_id", table_name="customers")

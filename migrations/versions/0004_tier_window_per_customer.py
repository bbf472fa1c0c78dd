"""Tier window per customer: customers.tier_counted_since, shops.tiers_aged_until, and an index
for the daily ageing of tier points

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("tier_counted_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("tiers_aged_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_ledger_shop_tier_counted", "ledger_entries", ["shop_id", "tier_counted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_shop_tier_counted", table_name="ledger_entries")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("tiers_aged_until")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("tier_counted_since")

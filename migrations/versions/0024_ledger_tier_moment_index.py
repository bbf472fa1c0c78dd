"""The tier-history check as an index range: (shop_id, customer_id, COALESCE(processed_at,
created_at)) over the entries that count for tiers

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

COUNTS_FOR_TIERS = sa.text("tier_points <> 0")


def upgrade() -> None:
    # Each paid delivery of a returning customer asks whether anything counting for tiers was
    # processed after its order; the customer index answered by reading all their entries.
    op.create_index(
        "ix_ledger_customer_tier_moment",
        "ledger_entries",
        [sa.text("shop_id"), sa.text("customer_id"), sa.text("COALESCE(processed_at, created_at)")],
        postgresql_where=COUNTS_FOR_TIERS,
        sqlite_where=COUNTS_FOR_TIERS,
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_customer_tier_moment", table_name="ledger_entries")

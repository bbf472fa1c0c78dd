"""ledger_entries.processed_at: when the merchant's action behind an entry happened (the order's
or the refund's processed_at), so tiers count what was processed before an order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:41:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("processed_at")

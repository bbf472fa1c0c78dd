"""The after-commit outbox: customers.sync_requested_at, set in the transaction that changed
what the checkout metafield mirrors, drained by the ``sync_requested_customers`` job

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

WAITING = sa.text("sync_requested_at IS NOT NULL")


def upgrade() -> None:
    op.add_column("customers", sa.Column("sync_requested_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_customers_sync_requested",
        "customers",
        ["sync_requested_at"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_customers_sync_requested", table_name="customers")
    # Not batch mode: SQLite (3.35+) drops a column in place, where a batch copy of the table
    # could not carry its expression indexes over.
    op.drop_column("customers", "sync_requested_at")

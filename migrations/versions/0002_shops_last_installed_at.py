"""shops.last_installed_at: the latest (re)install, to recognise stale uninstall retries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("last_installed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE shops SET last_installed_at = installed_at")


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("last_installed_at")

"""The program's audit trail: program_changes (who, when, before, after)

Revision ID: 0015
Revises: 0006
Create Date: 2026-12-01 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0006"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "program_changes",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column(
            "shop_id", BigIntPK, sa.ForeignKey("shops.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("changed_by", sa.String(255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
    )
    op.create_index("ix_program_changes_shop", "program_changes", ["shop_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_program_changes_shop", table_name="program_changes")
    op.drop_table("program_changes")

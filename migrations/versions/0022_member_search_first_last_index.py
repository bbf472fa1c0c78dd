"""The member search's "first last" arm on one index: (shop_id, lower(first_name),
lower(last_name)) replaces (shop_id, lower(first_name)), whose searches it serves as well

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _lowered(column: str) -> sa.TextClause:
    postgresql = op.get_bind().dialect.name == "postgresql"
    return sa.text(f"lower({column}) text_pattern_ops" if postgresql else f"lower({column})")


def upgrade() -> None:
    # "zoe you" reads the first-name range "zoe…" and checks the last name in the index entry,
    # instead of fetching every Zoe's row (SQLite) or intersecting two bitmaps (PostgreSQL).
    op.create_index(
        "ix_customers_shop_first_last_prefix",
        "customers",
        [sa.text("shop_id"), _lowered("first_name"), _lowered("last_name")],
    )
    op.drop_index("ix_customers_shop_first_name_prefix", table_name="customers")


def downgrade() -> None:
    op.create_index(
        "ix_customers_shop_first_name_prefix",
        "customers",
        [sa.text("shop_id"), _lowered("first_name")],
    )
    op.drop_index("ix_customers_shop_first_last_prefix", table_name="customers")

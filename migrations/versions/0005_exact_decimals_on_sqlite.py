"""Exact decimals on SQLite: money and rates stored as decimal text, not binary floats

SQLite has no exact numeric type: a NUMERIC column stores 12.34 as a REAL. On SQLite only, the
amount and rate columns become VARCHAR(40) holding the decimal's text (models.ExactDecimal);
PostgreSQL keeps NUMERIC.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = {
    "orders": [
        ("total_price", sa.Numeric(18, 2)),
        ("eligible_amount", sa.Numeric(18, 2)),
        ("earn_rate", sa.Numeric(18, 6)),
        ("multiplier", sa.Numeric(18, 6)),
        ("refunded_eligible", sa.Numeric(18, 2)),
    ],
    "rewards": [("value", sa.Numeric(18, 2))],
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, numeric in columns:
                batch.alter_column(name, type_=sa.String(40), existing_type=numeric)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, numeric in columns:
                batch.alter_column(name, type_=numeric, existing_type=sa.String(40))

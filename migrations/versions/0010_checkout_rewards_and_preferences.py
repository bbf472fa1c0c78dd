"""Checkout: learned and chosen preferences, redemptions that snapshot their reward, metafield syncs

- ``customer_preferences`` is rebuilt: a ``source`` column (``learned`` | ``chosen``), one row
  per (customer, kind, source), and the gateway or shipping code (``handle``) beside the display
  value. No code wrote the old table, so it is dropped and created again rather than altered
  (its unique constraint had no name to drop in batch mode).
- ``redemptions`` snapshot the reward as redeemed (type, amount, currency) and keep the store
  credit transaction's id; an index on ``status`` serves the reconcile job's sweep.
- ``customer_metafield_syncs``: the hash of the value last written to each customer's
  ``$app:kanta.preferences`` metafield.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money() -> sa.types.TypeEngine[object]:
    # models.ExactDecimal: NUMERIC on PostgreSQL, decimal text on SQLite (see 0005).
    if op.get_bind().dialect.name == "sqlite":
        return sa.String(40)
    return sa.Numeric(18, 2)


def upgrade() -> None:
    op.drop_table("customer_preferences")
    op.create_table(
        "customer_preferences",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("shop_id", BigIntPK, nullable=False),
        sa.Column("customer_id", BigIntPK, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "customer_id", "kind", "source"),
    )
    op.create_table(
        "customer_metafield_syncs",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("shop_id", BigIntPK, nullable=False),
        sa.Column("customer_id", BigIntPK, nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "customer_id"),
    )
    with op.batch_alter_table("redemptions") as batch:
        batch.add_column(
            sa.Column("reward_type", sa.String(32), nullable=False, server_default="fixed_amount")
        )
        batch.add_column(sa.Column("amount", _money(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("currency", sa.String(3), nullable=False, server_default="USD"))
        batch.add_column(sa.Column("store_credit_transaction_id", sa.String(128), nullable=True))
        batch.create_index("ix_redemptions_status", ["status"], unique=False)
    # The defaults only filled existing rows; the models give every new row its values.
    with op.batch_alter_table("redemptions") as batch:
        batch.alter_column("reward_type", server_default=None, existing_type=sa.String(32))
        batch.alter_column("amount", server_default=None, existing_type=_money())
        batch.alter_column("currency", server_default=None, existing_type=sa.String(3))


def downgrade() -> None:
    with op.batch_alter_table("redemptions") as batch:
        batch.drop_index("ix_redemptions_status")
        batch.drop_column("store_credit_transaction_id")
        batch.drop_column("currency")
        batch.drop_column("amount")
        batch.drop_column("reward_type")
    op.drop_table("customer_metafield_syncs")
    op.drop_table("customer_preferences")
    op.create_table(
        "customer_preferences",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("shop_id", BigIntPK, nullable=False),
        sa.Column("customer_id", BigIntPK, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "customer_id", "kind"),
    )

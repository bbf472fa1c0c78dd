"""The checkout widget's per-customer reads answered from their indexes alone

- ``ix_ledger_customer`` (shop, customer, id) also carries the columns the widget shows of the
  latest entries (kind, points, pending_points, created_at), appended to the key: an index-only
  scan instead of up to one heap page per entry at a million members. Same index count on the
  write path; the ledger is append-only, so no HOT update is lost.
- PostgreSQL: the preferences' unique (shop, customer, kind, source) also carries ``value``
  (``INCLUDE``, so uniqueness is unchanged; same name, so ``ON CONFLICT`` still finds it).
  SQLite has no ``INCLUDE`` and ``value`` cannot join a unique key: unchanged there.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 02:25:00
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

LEDGER_KEY = ["shop_id", "customer_id", "id"]
LEDGER_SHOWN = ["kind", "points", "pending_points", "created_at"]
PREFERENCES_UNIQUE = "customer_preferences_shop_id_customer_id_kind_source_key"
PREFERENCES_KEY = "shop_id, customer_id, kind, source"


def upgrade() -> None:
    op.drop_index("ix_ledger_customer", table_name="ledger_entries")
    op.create_index("ix_ledger_customer", "ledger_entries", LEDGER_KEY + LEDGER_SHOWN)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE customer_preferences DROP CONSTRAINT {PREFERENCES_UNIQUE}, "
            f"ADD CONSTRAINT {PREFERENCES_UNIQUE} UNIQUE ({PREFERENCES_KEY}) INCLUDE (value)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE customer_preferences DROP CONSTRAINT {PREFERENCES_UNIQUE}, "
            f"ADD CONSTRAINT {PREFERENCES_UNIQUE} UNIQUE ({PREFERENCES_KEY})"
        )
    op.drop_index("ix_ledger_customer", table_name="ledger_entries")
    op.create_index("ix_ledger_customer", "ledger_entries", LEDGER_KEY)

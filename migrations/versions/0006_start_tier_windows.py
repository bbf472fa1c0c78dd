"""Data: start every customer's tier window where the daily job had aged it

Before 0004 a customer's tier points counted the entries inside the window as of the last daily
run; from 0004 on they count the entries since ``customers.tier_counted_since`` (all of them
while null). This sets that start to now − the shop's window and recounts, so existing rows mean
what the code now says they mean.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:10:00
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The defaults as they stood when this migration was written (not imported: code moves on).
DEFAULT_WINDOW_DAYS = 365
DEFAULT_TIERS = [("bronze", 0), ("silver", 500), ("gold", 1500)]


def _tier_key(tiers: list[tuple[str, int]], points: int) -> str:
    key = tiers[0][0]
    for name, threshold in tiers:
        if points >= threshold:
            key = name
    return key


def _program(raw: Any) -> tuple[int, list[tuple[str, int]]]:
    data = json.loads(raw) if isinstance(raw, str) else (raw or {})
    window = data.get("tier_window_days") or DEFAULT_WINDOW_DAYS
    tiers = [
        (str(t.get("key") or t["name"].strip().lower().replace(" ", "-")), int(t["threshold"]))
        for t in data.get("tiers") or []
    ] or DEFAULT_TIERS
    return int(window), tiers


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    now = datetime.now(UTC)
    for shop_id, program in bind.execute(sa.text("SELECT id, program FROM shops")).all():
        window, tiers = _program(program)
        since = now - timedelta(days=window)
        since_value: Any = (
            since.replace(tzinfo=None).isoformat(" ", timespec="microseconds") if sqlite else since
        )
        rows = bind.execute(
            sa.text(
                "SELECT c.id, COALESCE(SUM(e.tier_points), 0) FROM customers c "
                "LEFT JOIN ledger_entries e ON e.customer_id = c.id "
                "AND e.tier_counted_at >= :since WHERE c.shop_id = :shop GROUP BY c.id"
            ),
            {"since": since_value, "shop": shop_id},
        ).all()
        for customer_id, points in rows:
            bind.execute(
                sa.text(
                    "UPDATE customers SET tier_points = :points, tier_key = :key, "
                    "tier_counted_since = :since WHERE id = :id"
                ),
                {
                    "points": int(points),
                    "key": _tier_key(tiers, int(points)),
                    "since": since_value,
                    "id": customer_id,
                },
            )
        bind.execute(
            sa.text("UPDATE shops SET tiers_aged_until = :since WHERE id = :id"),
            {"since": since_value, "id": shop_id},
        )


def downgrade() -> None:
    # Nothing to undo: 0004's downgrade drops the columns this fills.
    pass

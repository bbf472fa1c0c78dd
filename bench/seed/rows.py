"""The rows loaded, column by column, and their values as each database stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LEDGER_COLUMNS = (
    "shop_id",
    "customer_id",
    "kind",
    "source",
    "idempotency_key",
    "points",
    "pending_points",
    "tier_points",
    "tier_counted_at",
    "shopify_order_id",
    "source_ref",
    "details",
    "reason",
    "actor",
    "created_at",
)
ORDER_COLUMNS = (
    "shop_id",
    "shopify_order_id",
    "customer_id",
    "name",
    "source_name",
    "is_test",
    "currency",
    "total_price",
    "payment_gateway",
    "payment_method_name",
    "delivery_title",
    "delivery_code",
    "delivery_kind",
    "facts",
    "eligible_amount",
    "paid_at",
    "award_status",
    "awarded_at",
    "earn_rate",
    "multiplier",
    "awarded_points",
    "reversed_points",
    "refunded_eligible",
    "pending_remaining",
    "available_at",
    "created_at",
    "updated_at",
)
CUSTOMER_COLUMNS = (
    "id",
    "shop_id",
    "shopify_customer_id",
    "email",
    "first_name",
    "last_name",
    "is_member",
    "member_since",
    "marketing_consent",
    "consent_updated_at",
    "points_balance",
    "pending_points",
    "tier_points",
    "tier_key",
    "tier_counted_since",
    "last_activity_at",
    "last_order_at",
    "created_at",
    "updated_at",
)
REVERSED_POINTS = ORDER_COLUMNS.index("reversed_points")
REFUNDED_ELIGIBLE = ORDER_COLUMNS.index("refunded_eligible")

Row = tuple[Any, ...]


@dataclass
class MemberRows:
    customers: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    entries: list[Row] = field(default_factory=list)


class Encoder:
    """Values as each database stores them: timestamps, booleans and money differ."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def moment(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if self.sqlite:
            return value.replace(tzinfo=None).isoformat(" ", timespec="microseconds")
        return value.isoformat(" ", timespec="microseconds")

    def flag(self, value: bool | None) -> Any:
        if value is None:
            return None
        if self.sqlite:
            return 1 if value else 0
        return "t" if value else "f"

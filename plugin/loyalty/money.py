"""Reading Shopify's money, ids and times exactly: shared by the order and refund readers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

ZERO = Decimal("0")
CENT = Decimal("0.01")
# Far above any real order, and inside the Numeric(18, 2) columns that store amounts.
MAX_AMOUNT = Decimal(10) ** 12


class PayloadError(ValueError):
    """The payload is not an order/refund Kanta can read; the sender gets a 400."""


def objects(obj: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects, or a PayloadError: Shopify never sends anything else there."""
    value = obj.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise PayloadError(f"{field} must be a list of objects")
    return value


def money_of(obj: Mapping[str, Any], field: str) -> Decimal:
    """Shop-currency amount of ``field``: ``field_set.shop_money.amount`` when present."""
    money_set = obj.get(f"{field}_set")
    if isinstance(money_set, Mapping):
        shop_money = money_set.get("shop_money")
        if isinstance(shop_money, Mapping) and "amount" in shop_money:
            return to_decimal(shop_money["amount"], f"{field}_set.shop_money.amount")
    value = obj.get(field)
    if value is None:
        return ZERO
    return to_decimal(value, field)


def opt_money(obj: Mapping[str, Any], field: str) -> Decimal | None:
    if obj.get(field) is None and obj.get(f"{field}_set") is None:
        return None
    return money_of(obj, field)


def to_decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool):
        raise PayloadError(f"{field} must be a decimal amount")
    try:
        # str() first: refund line subtotals arrive as JSON numbers (parsed to Decimal by our
        # JSON loader, but be safe with int/float too) and must not pick up binary noise.
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PayloadError(f"{field} must be a decimal amount") from None
    if not result.is_finite() or abs(result) >= MAX_AMOUNT:
        raise PayloadError(f"{field} must be a finite amount below {MAX_AMOUNT}")
    return result


def shopify_id(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise PayloadError(f"{field} must be a Shopify id")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 0 < value < 2**63:
        raise PayloadError(f"{field} must be a Shopify id (a positive 64-bit integer)")
    return value


def opt_str(value: Any, limit: int = 255) -> str | None:
    if value is None:
        return None
    return str(value)[:limit]


# The times a payload's moment may take: no order is older or newer, and the ledger moves a
# moment by at most ten years (a tier window), which a datetime near year 1 or 9999 cannot do.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def timestamp(value: Any) -> datetime | None:
    """An ISO-8601 timestamp with an offset, as UTC; None if absent, unreadable, or outside
    ``EARLIEST``..``LATEST`` (year 9999 at -05:00 is not even a UTC time: it overflows)."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return None
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if EARLIEST <= moment < LATEST else None

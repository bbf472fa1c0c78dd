"""The persistent model: every row belongs to a shop and every query is scoped by it.

Points live in ``ledger_entries``, append-only, one row per change with an idempotency key that
is unique per shop, so a replayed webhook cannot pay twice. ``customers.points_balance``,
``pending_points``, ``tier_points`` and ``tier_key`` are projections of the ledger, updated in
the same transaction as the entries; ``flask ledger verify`` re-sums them.

Shopify ids are 64-bit (``BigInteger``); money is an exact ``Decimal`` (``NUMERIC(18, 2)`` on
PostgreSQL, decimal text on SQLite, which has no exact numeric type); every timestamp is stored
and returned timezone-aware in UTC.
"""

from __future__ import annotations

from .customers import Customer, CustomerMetafieldSync, CustomerPreference, RedactedCustomer
from .orders import LedgerEntry, Order, OrderEvent, OrderLine, Redemption
from .shops import (
    BalanceImport,
    CollectionProduct,
    DataExport,
    ProgramChange,
    Reward,
    Shop,
    WebhookReceipt,
)
from .types import Base, BigIntPK, ExactDecimal, Money, ShopKey, UTCDateTime, utcnow

__all__ = [
    "BalanceImport",
    "Base",
    "BigIntPK",
    "CollectionProduct",
    "Customer",
    "CustomerMetafieldSync",
    "CustomerPreference",
    "DataExport",
    "ExactDecimal",
    "LedgerEntry",
    "Money",
    "Order",
    "OrderEvent",
    "OrderLine",
    "ProgramChange",
    "RedactedCustomer",
    "Redemption",
    "Reward",
    "Shop",
    "ShopKey",
    "UTCDateTime",
    "WebhookReceipt",
    "utcnow",
]

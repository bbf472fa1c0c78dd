"""Orders, their events and lines, the points ledger, and redemptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .types import Base, BigIntPK, ExactDecimal, Money, ShopKey, utcnow


class Order(Base):
    """What Kanta knows of one Shopify order, and where its points stand."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_order_id"),
        Index("ix_orders_shop_paid", "shop_id", "paid_at"),
        # Also the index of a customer's orders (its prefix): each index costs every insert.
        Index("ix_orders_shop_customer_processed", "shop_id", "customer_id", "processed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ShopKey)
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str | None] = mapped_column(String(64))
    source_name: Mapped[str | None] = mapped_column(String(64))
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    total_price: Mapped[Decimal | None]
    # What checkout showed the shopper (the preference feature learns from these).
    payment_gateway: Mapped[str | None] = mapped_column(String(255))
    payment_method_name: Mapped[str | None] = mapped_column(String(255))
    delivery_title: Mapped[str | None] = mapped_column(String(255))
    delivery_code: Mapped[str | None] = mapped_column(String(255))
    delivery_kind: Mapped[str | None] = mapped_column(String(32))
    # Eligible amounts, computed once from the paying payload (see loyalty.orders).
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    eligible_amount: Mapped[Decimal | None]
    # When Shopify processed the order (its payload's processed_at): the tier it earns at.
    processed_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # The award, snapshotted so later program edits never change reversals.
    # award_status: "waiting" (no paying event yet), "awarded", or "none" (test order, guest,
    # non-member): refunds of a "none" order have nothing to reverse.
    award_status: Mapped[str] = mapped_column(String(16), default="waiting")
    award_note: Mapped[str | None] = mapped_column(String(255))
    awarded_at: Mapped[datetime | None]
    earn_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 6))
    multiplier: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 6))
    awarded_points: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_points: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_eligible: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    pending_remaining: Mapped[int] = mapped_column(BigInteger, default=0)
    available_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OrderEvent(Base):
    """A business event of an order (paid, fulfilled, refund, cancellation), kept once.

    Events can arrive in any order; a refund that arrives before its order's award waits here
    (``applied_at`` null) and is applied when the award is made.
    """

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("shop_id", "kind", "source_id"),
        Index("ix_order_events_order", "shop_id", "shopify_order_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ShopKey)
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(BigInteger)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]


class OrderLine(Base):
    """What an order's line sold (product and variant), kept from the order webhooks so the
    merchant can find who bought a product or anything of a collection. Who bought it is the
    order's customer (``orders.customer_id``); nothing personal is stored here."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_order_id", "line_id"),
        Index("ix_order_lines_shop_product", "shop_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ShopKey)
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    line_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int | None] = mapped_column(BigInteger)
    variant_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer, default=0)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("shop_id", "idempotency_key"),
        # The widget's latest entries come from this index alone (migration 0021).
        Index(
            "ix_ledger_customer",
            *("shop_id", "customer_id", "id"),
            *("kind", "points", "pending_points", "created_at"),
        ),
        Index("ix_ledger_shop_created", "shop_id", "created_at"),
        Index("ix_ledger_shop_tier_counted", "shop_id", "tier_counted_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ShopKey)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(160))
    # Signed effects on the three projections.
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_points: Mapped[int] = mapped_column(BigInteger, default=0)
    tier_points: Mapped[int] = mapped_column(BigInteger, default=0)
    # When the order behind tier points was awarded: the rolling tier window counts from it.
    tier_counted_at: Mapped[datetime | None]
    # When the merchant's action behind the entry happened (the order's or refund's
    # processed_at); null for entries that never count toward a tier.
    processed_at: Mapped[datetime | None]
    shopify_order_id: Mapped[int | None] = mapped_column(BigInteger)
    source_ref: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# "Is anything that counts for tiers processed after this moment?" (``ledger.tiers``, and the
# express lane's history check, once per paid delivery): a range of this index, where the
# customer index made it read every one of the customer's entries (migration 0024).
Index(
    "ix_ledger_customer_tier_moment",
    LedgerEntry.shop_id,
    LedgerEntry.customer_id,
    func.coalesce(LedgerEntry.processed_at, LedgerEntry.created_at).label("tier_moment"),
    postgresql_where=text("tier_points <> 0"),
    sqlite_where=text("tier_points <> 0"),
)


class Redemption(Base):
    """Points turned into a reward at Shopify (``plugin.ledger.redemptions``).

    status: ``reserved`` (points taken, the reward not issued yet), ``issued``, ``refunded``
    (Shopify refused: the points came back), ``unknown`` (the call's outcome is unknown: the
    reconcile job looks the reward up at Shopify and settles it either way).
    """

    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("shop_id", "idempotency_key"),
        # The reconcile job's sweep: the few redemptions whose outcome is not settled yet.
        Index("ix_redemptions_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str] = mapped_column(String(160))
    points_cost: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    # A snapshot of the reward as redeemed: later edits of the reward change nothing here.
    reward_type: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    discount_code: Mapped[str | None] = mapped_column(String(64))
    shopify_discount_id: Mapped[str | None] = mapped_column(String(128))
    store_credit_transaction_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

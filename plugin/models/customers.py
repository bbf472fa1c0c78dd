"""A shop's customers, and what Kanta keeps of each beyond the ledger: checkout preferences,
the metafield last written to Shopify, and the suppression of an erased customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .types import Base, BigIntPK, ShopKey, utcnow


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_customer_id"),
        Index("ix_customers_shop_email", "shop_id", "email"),
        Index("ix_customers_shop_points", "shop_id", "points_balance"),
        # The admin's member list (plugin/admin/members_query.py): one index per access path.
        Index("ix_customers_shop_member_id", "shop_id", "is_member", "id"),
        Index("ix_customers_shop_tier_id", "shop_id", "tier_key", "id"),
        # The after-commit outbox (plugin/jobs/preferences.py): only the customers waiting.
        Index(
            "ix_customers_sync_requested",
            "sync_requested_at",
            postgresql_where=text("sync_requested_at IS NOT NULL"),
            sqlite_where=text("sync_requested_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # No index of its own: (shop_id, shopify_customer_id) answers by shop (migration 0025).
    shop_id: Mapped[int] = mapped_column(ShopKey)
    # Null once the customer is redacted: the anonymous totals stay, the identity goes.
    shopify_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    is_member: Mapped[bool] = mapped_column(Boolean, default=False)
    member_since: Mapped[datetime | None]
    marketing_consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_updated_at: Mapped[datetime | None]
    # Projections of the ledger (see module docstring).
    points_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_points: Mapped[int] = mapped_column(BigInteger, default=0)
    tier_points: Mapped[int] = mapped_column(BigInteger, default=0)
    tier_key: Mapped[str | None] = mapped_column(String(64))
    # tier_points counts the entries earned since this moment (all while null); the daily job
    # moves it as the rolling window passes.
    tier_counted_since: Mapped[datetime | None]
    # Last earning or redemption: the clock for inactivity expiry.
    last_activity_at: Mapped[datetime | None]
    last_order_at: Mapped[datetime | None]
    redacted_at: Mapped[datetime | None]
    # Set in the transaction that changed what the checkout metafield mirrors (a paid order, a
    # refund): the outbox that ``sync_requested_customers`` drains, so the request itself sends
    # nothing to a broker and a crash after the commit loses nothing.
    sync_requested_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Prefix search of members by email or name (plugin/admin/members_query.py), case-insensitive.
# text_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%' whatever its collation.
for _name, _column in (
    ("email", Customer.email),
    ("last_name", Customer.last_name),
):
    Index(
        f"ix_customers_shop_{_name}_prefix",
        Customer.shop_id,
        func.lower(_column).label(f"{_name}_lower"),
        postgresql_ops={f"{_name}_lower": "text_pattern_ops"},
    )
# A first name, and "first last": the last name is checked in the index entry (migration 0022).
Index(
    "ix_customers_shop_first_last_prefix",
    Customer.shop_id,
    func.lower(Customer.first_name).label("first_name_lower"),
    func.lower(Customer.last_name).label("last_name_lower"),
    postgresql_ops={"first_name_lower": "text_pattern_ops", "last_name_lower": "text_pattern_ops"},
)


class CustomerPreference(Base):
    """A shopper's usual payment method or delivery option, as checkout shows it.

    Two sources, one row each per (customer, kind): ``learned`` (recomputed from the customer's
    last paid orders after each order commits) and ``chosen`` (the shopper's own choice in the
    widget, deleted when they clear it). A chosen row wins over a learned one. ``value`` is the
    display name checkout shows (payment method name, delivery option title); ``handle`` is what
    the order records beside it (payment gateway, shipping line code), when known.
    """

    __tablename__ = "customer_preferences"
    # PostgreSQL: the widget reads a customer's rows from this index alone (migration 0021).
    __table_args__ = (
        UniqueConstraint("shop_id", "customer_id", "kind", "source", postgresql_include=["value"]),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "payment" | "delivery"
    source: Mapped[str] = mapped_column(String(16))  # "learned" | "chosen"
    value: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerMetafieldSync(Base):
    """What Kanta last wrote to a customer's ``$app:kanta.preferences`` metafield (a hash of
    the value), so the sync job writes only when the value changed."""

    __tablename__ = "customer_metafield_syncs"
    __table_args__ = (UniqueConstraint("shop_id", "customer_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    value_hash: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)


class RedactedCustomer(Base):
    """The suppression list of ``customers/redact``: a hash of each erased Shopify customer id, so
    a late webhook (triggered before the erasure, delivered after) cannot bring the customer's
    identity back. Holds no personal data beyond that hash."""

    __tablename__ = "redacted_customers"
    __table_args__ = (UniqueConstraint("shop_id", "customer_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_key: Mapped[str] = mapped_column(String(64))
    redacted_at: Mapped[datetime] = mapped_column(default=utcnow)

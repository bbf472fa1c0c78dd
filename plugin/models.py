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

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
# The shop of the rows every paid order writes (customers, orders, order_events, order_lines,
# ledger_entries, webhook_receipts), without a foreign key (migration 0026): each of those keys
# cost PostgreSQL a query and a lock on the one shops row that every delivery of the shop shares,
# nine times a delivery. The intake holds that row once instead (``FOR KEY SHARE`` where it reads
# the shop), as do the other writers that create customers (``ledger.hold_shop``), and
# shop/redact locks it ``FOR UPDATE`` before deleting the shop's rows table by table, so no row
# can outlive its shop (tests/test_concurrency_postgres.py).
ShopKey = BigIntPK


class ExactDecimal(TypeDecorator[Decimal]):
    """``Decimal`` in and out, never a float: NUMERIC on PostgreSQL; on SQLite (whose NUMERIC
    affinity would store a binary float) the decimal's text."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 2) -> None:
        super().__init__(precision, scale)
        self.precision, self.scale = precision, scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be a Decimal, not a float")
        exact = Decimal(value).quantize(Decimal(1).scaleb(-self.scale))
        return str(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


Money = ExactDecimal(18, 2)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money, dict[str, Any]: JSON}


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    shopify_shop_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Offline access token, encrypted (Fernet). Expiring tokens carry a refresh token.
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_expires_at: Mapped[datetime | None]
    scopes: Mapped[str] = mapped_column(Text, default="")
    installed_at: Mapped[datetime | None]
    # The latest (re)install: an uninstall webhook triggered before it is a stale retry.
    last_installed_at: Mapped[datetime | None]
    uninstalled_at: Mapped[datetime | None]
    # The loyalty program's settings (validated by plugin.loyalty.program.ProgramSettings).
    program: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    program_updated_at: Mapped[datetime | None]
    # Tier points earned before this moment have been aged out by the daily job.
    tiers_aged_until: Mapped[datetime | None]
    # What Shopify says of the shop's plan and country (Admin GraphQL ``shop``, synced by the
    # ``sync_shop_facts`` job): what the checkout Functions may move depends on them.
    plan_display_name: Mapped[str | None] = mapped_column(String(64))
    plan_shopify_plus: Mapped[bool | None] = mapped_column(Boolean)
    country_code: Mapped[str | None] = mapped_column(String(2))
    shop_facts_synced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_installed(self) -> bool:
        return self.installed_at is not None and self.uninstalled_at is None


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


class ProgramChange(Base):
    """The audit trail of the program: who changed it (the staff user of the session token),
    when, and the whole program (settings and rewards) before and after."""

    __tablename__ = "program_changes"
    __table_args__ = (Index("ix_program_changes_shop", "shop_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    changed_by: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)


class WebhookReceipt(Base):
    """One row per delivery (``X-Shopify-Webhook-Id``): a redelivery finds it and does nothing."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (UniqueConstraint("shop_id", "webhook_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ShopKey)
    webhook_id: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(128))
    api_version: Mapped[str | None] = mapped_column(String(16))
    triggered_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class Reward(Base):
    __tablename__ = "rewards"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    points_cost: Mapped[int] = mapped_column(BigInteger)
    # fixed_amount | percentage | free_shipping | store_credit (plugin.loyalty.rewards)
    reward_type: Mapped[str] = mapped_column(String(32))
    # An amount of the shop's currency (fixed_amount, store_credit), a percentage from 0 to 100
    # (percentage), unused (free_shipping).
    value: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class DataExport(Base):
    """An export prepared for a ``customers/data_request``, for the merchant to download."""

    __tablename__ = "data_exports"
    __table_args__ = (UniqueConstraint("shop_id", "data_request_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    data_request_id: Mapped[int] = mapped_column(BigInteger)
    shopify_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class CollectionProduct(Base):
    """One product of one collection of the shop, as Admin GraphQL ``collections`` lists them
    (synced by the ``sync_collections`` job)."""

    __tablename__ = "collection_products"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_collection_id", "product_id"),
        Index("ix_collection_products_shop_product", "shop_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shopify_collection_id: Mapped[int] = mapped_column(BigInteger)
    collection_title: Mapped[str] = mapped_column(String(255))
    product_id: Mapped[int] = mapped_column(BigInteger)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class BalanceImport(Base):
    """An import of balances from another loyalty app: the uploaded CSV until the job has run,
    its progress, and the per-row errors that stopped it (all or nothing)."""

    __tablename__ = "balance_imports"
    __table_args__ = (Index("ix_balance_imports_shop", "shop_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    # queued -> validating -> writing -> done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    points_total: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The file as uploaded; cleared once the job is done (it holds emails).
    csv_text: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

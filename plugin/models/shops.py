"""The shop, and what belongs to the shop as a whole: the program's audit trail, rewards,
webhook receipts, the collections' products, balance imports and data exports."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from .types import Base, BigIntPK, Money, ShopKey, utcnow


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

"""Segments of members, and their export as a CSV a newsletter tool takes as it is.

Filters (all optional, combined with "and"): ``tier`` (a tier key or name), ``points_min`` /
``points_max`` (available balance), ``last_order_from`` / ``last_order_to`` (dates of the last
paid order, UTC), ``consent`` (``yes``, ``no``, ``unknown``: the email-marketing consent Kanta
holds), ``product_id`` (bought it) and ``collection_id`` (bought anything of it) — "bought"
meaning on an order that is paid and not cancelled. Members only; erased customers never.

The list pages by keyset (``after`` = the last row's cursor, ordered by Kanta's customer id):
no ``OFFSET``. The export streams: a generator reads 1,000 members per short read transaction
and writes them out, so memory stays flat whatever the segment's size.

Two column sets: ``newsletter`` (email, first_name, last_name, tier, points, consent), and
``klaviyo`` — the headers Klaviyo maps by itself on a list upload ("Email" first, "First Name",
"Last Name", "Email Marketing Consent" as Subscribed / Unsubscribed / Never subscribed; help
articles 115005078967 and 360043841811 of help.klaviyo.com), tier and points as custom
properties "Loyalty Tier" and "Loyalty Points". Only members with an email are exported.

Every text cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with ``'`` (OWASP's CSV-injection advice).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from ..loyalty.program import ProgramSettings
from ..models import CollectionProduct, Customer, Order, OrderLine, Shop
from .period import EARLIEST, LATEST

PAGE = 50
MAX_PAGE = 200
EXPORT_BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONSENT = ("yes", "no", "unknown")
FILTERS = (
    "tier",
    "points_min",
    "points_max",
    "last_order_from",
    "last_order_to",
    "consent",
    "product_id",
    "collection_id",
)
COLUMN_SETS = {
    "newsletter": ("email", "first_name", "last_name", "tier", "points", "consent"),
    "klaviyo": (
        "Email",
        "First Name",
        "Last Name",
        "Email Marketing Consent",
        "Loyalty Tier",
        "Loyalty Points",
    ),
}
KLAVIYO_CONSENT = {True: "Subscribed", False: "Unsubscribed", None: "Never subscribed"}


class SegmentError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Segment:
    tier: str | None = None
    points_min: int | None = None
    points_max: int | None = None
    last_order_from: date | None = None
    last_order_to: date | None = None
    consent: str | None = None
    product_id: int | None = None
    collection_id: int | None = None


def _int(raw: str, name: str, errors: dict[str, str], low: int, high: int) -> int | None:
    text = raw.strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or not low <= int(text) <= high:
        errors[name] = f"must be a whole number from {low:,} to {high:,}"
        return None
    return int(text)


def parse_segment(args: Any, program: ProgramSettings) -> Segment:
    """Read the filters from query arguments; ``SegmentError`` names each bad one (an empty
    value too: the page drops a form's empty fields before it asks)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    raw = {k: str(v) for k, v in args.items()}
    if "tier" in raw:
        wanted = raw["tier"].strip().lower()
        tier = next((t for t in program.tiers if wanted in (t.key, t.name.lower())), None)
        if tier is None:
            errors["tier"] = "is not a tier of the program"
        else:
            values["tier"] = tier.key
    for name in ("points_min", "points_max"):
        if name in raw:
            values[name] = _int(raw[name], name, errors, -(10**12), 10**12)
    for name in ("last_order_from", "last_order_to"):
        if name in raw:
            try:
                values[name] = date.fromisoformat(raw[name]) if len(raw[name]) == 10 else None
            except ValueError:
                values[name] = None
            if values[name] is None:
                errors[name] = "must be a date as YYYY-MM-DD"
            elif not EARLIEST <= values[name] <= LATEST:  # a day later must still exist
                errors[name] = f"must be a date from {EARLIEST} to {LATEST}"
    if "consent" in raw:
        if raw["consent"] not in CONSENT:
            errors["consent"] = "must be yes, no or unknown"
        else:
            values["consent"] = raw["consent"]
    for name in ("product_id", "collection_id"):
        if name in raw:
            values[name] = _int(raw[name], name, errors, 1, 2**63 - 1)
    if not errors:
        low, high = values.get("points_min"), values.get("points_max")
        if low is not None and high is not None and low > high:
            errors["points_min"] = "must not be above points_max"
        first, last = values.get("last_order_from"), values.get("last_order_to")
        if first is not None and last is not None and first > last:
            errors["last_order_from"] = "must be on or before last_order_to"
    if errors:
        raise SegmentError(errors)
    return Segment(**values)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def segment_query(shop: Shop, program: ProgramSettings, segment: Segment) -> Select[Any]:
    """The members of the segment, ordered by Kanta's customer id (the keyset)."""
    conditions: list[Any] = [
        Customer.shop_id == shop.id,
        Customer.is_member.is_(True),
        Customer.redacted_at.is_(None),
    ]
    if segment.tier is not None:
        matches = Customer.tier_key == segment.tier
        if segment.tier == program.tiers[0].key:
            matches = or_(matches, Customer.tier_key.is_(None))
        conditions.append(matches)
    if segment.points_min is not None:
        conditions.append(Customer.points_balance >= segment.points_min)
    if segment.points_max is not None:
        conditions.append(Customer.points_balance <= segment.points_max)
    if segment.last_order_from is not None:
        conditions.append(Customer.last_order_at >= _midnight(segment.last_order_from))
    if segment.last_order_to is not None:
        end = _midnight(segment.last_order_to + timedelta(days=1))
        conditions.append(Customer.last_order_at < end)
    if segment.consent == "yes":
        conditions.append(Customer.marketing_consent.is_(True))
    elif segment.consent == "no":
        conditions.append(Customer.marketing_consent.is_(False))
    elif segment.consent == "unknown":
        conditions.append(Customer.marketing_consent.is_(None))
    products: list[Any] = []
    if segment.product_id is not None:
        products.append(OrderLine.product_id == segment.product_id)
    if segment.collection_id is not None:
        products.append(
            OrderLine.product_id.in_(
                select(CollectionProduct.product_id).where(
                    CollectionProduct.shop_id == shop.id,
                    CollectionProduct.shopify_collection_id == segment.collection_id,
                )
            )
        )
    for product_condition in products:
        conditions.append(
            exists(
                select(OrderLine.id)
                .join(
                    Order,
                    and_(
                        Order.shop_id == OrderLine.shop_id,
                        Order.shopify_order_id == OrderLine.shopify_order_id,
                    ),
                )
                .where(
                    OrderLine.shop_id == shop.id,
                    Order.customer_id == Customer.id,
                    Order.paid_at.is_not(None),
                    Order.cancelled_at.is_(None),
                    product_condition,
                )
            )
        )
    return select(Customer).where(*conditions).order_by(Customer.id)


def member_row(customer: Customer, program: ProgramSettings) -> dict[str, Any]:
    consent = customer.marketing_consent
    return {
        "customer_id": str(customer.shopify_customer_id),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "tier": program.tier_by_key(customer.tier_key).name,
        "points": customer.points_balance,
        "consent": "unknown" if consent is None else ("yes" if consent else "no"),
        "last_order_at": customer.last_order_at.isoformat() if customer.last_order_at else None,
    }


def page_of_members(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    segment: Segment,
    after: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    query = segment_query(shop, program, segment)
    if after is not None:
        query = query.where(Customer.id > after)
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [member_row(c, program) for c in rows], (rows[-1].id if more and rows else None)


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _export_cells(customer: Customer, program: ProgramSettings, columns: str) -> list[Any]:
    tier = program.tier_by_key(customer.tier_key).name
    consent = customer.marketing_consent
    if columns == "klaviyo":
        cells: list[Any] = [
            customer.email,
            customer.first_name or "",
            customer.last_name or "",
            KLAVIYO_CONSENT[consent],
            tier,
        ]
    else:
        cells = [
            customer.email,
            customer.first_name or "",
            customer.last_name or "",
            tier,
        ]
    text = [safe_cell(c) for c in cells]
    if columns == "klaviyo":
        return [*text, customer.points_balance]
    return [*text, customer.points_balance, "unknown" if consent is None else str(consent).lower()]


def export_rows(
    db: Any, shop_id: int, program: ProgramSettings, segment: Segment, columns: str
) -> Iterator[str]:
    """The CSV, a chunk per batch of members, each batch read in its own short transaction."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return chunk

    header = COLUMN_SETS[columns]
    writer.writerow(header)
    yield flush()
    after = 0
    while True:
        with db.read() as session:
            shop = session.get(Shop, shop_id)
            if shop is None:
                return
            batch = list(
                session.scalars(
                    segment_query(shop, program, segment)
                    .where(Customer.id > after, Customer.email.is_not(None))
                    .limit(EXPORT_BATCH)
                )
            )
            for customer in batch:
                writer.writerow(_export_cells(customer, program, columns))
        if not batch:
            return
        after = batch[-1].id
        yield flush()
        if len(batch) < EXPORT_BATCH:
            return

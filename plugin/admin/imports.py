"""Reading a balance export of another loyalty app, and matching its rows to this shop's customers.

The file is CSV with a header row: a customer column (``customer_id`` — Shopify's customer id —
or ``email``), ``points``, and optionally ``tier``. Header names are matched loosely (``Email
Address``, ``Points Balance``, ``VIP tier`` …). Rules, each refused row naming its line:

- a customer id is a Shopify customer id; an unknown one becomes a new customer row (its
  details arrive with the next webhook), unless that customer's data was erased;
- an email must belong to exactly one customer of this shop (an email alone cannot create a
  customer: the next order would arrive under its Shopify id and make a second one);
- points are a whole number from 0 to 10,000,000;
- a tier, when given, is one of the program's tiers (name or key);
- a customer appears once per file.

Nothing here writes: ``parse_balances`` reads the text, ``resolve_customers`` looks the rows up.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..ledger import suppression_key
from ..loyalty.program import ProgramSettings
from ..models import Customer, RedactedCustomer, Shop

MAX_ROWS = 200_000
MAX_POINTS = 10_000_000
MAX_ERRORS = 1000
LOOKUP_BATCH = 1000
EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")

HEADER_ALIASES = {
    "customer_id": ("customer_id", "shopify_customer_id", "customer", "id"),
    "email": ("email", "email_address", "customer_email", "e_mail"),
    "points": ("points", "points_balance", "balance", "point_balance", "loyalty_points"),
    "tier": ("tier", "vip_tier", "tier_name", "loyalty_tier", "level"),
}


class ImportFileError(ValueError):
    """The file cannot be read at all (no header, missing columns, too many rows…)."""


@dataclass
class BalanceRow:
    line: int
    points: int
    shopify_customer_id: int | None = None
    email: str | None = None
    tier_key: str | None = None
    customer_pk: int | None = None  # set by resolve_customers (None: a new customer)
    tier_points: int = 0  # the tier points the import adds, set by resolve_customers


@dataclass
class ImportPlan:
    rows: list[BalanceRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def refuse(self, line: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "field": column, "message": message})

    @property
    def points_total(self) -> int:
        return sum(r.points for r in self.rows)


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    names = [_normalise(h) for h in header]
    for column, aliases in HEADER_ALIASES.items():
        for index, name in enumerate(names):
            if name in aliases and column not in found:
                found[column] = index
    if "points" not in found:
        raise ImportFileError("the header needs a 'points' column")
    if "customer_id" not in found and "email" not in found:
        raise ImportFileError("the header needs a 'customer_id' or an 'email' column")
    return found


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")  # spreadsheets often write a byte-order mark
    except UnicodeDecodeError:
        raise ImportFileError("the file must be UTF-8 text") from None


def parse_balances(text: str, program: ProgramSettings) -> ImportPlan:
    """Read every row; row problems are collected, file problems raise ``ImportFileError``."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    except csv.Error as error:
        raise ImportFileError(f"not a CSV file: {error}") from None
    columns = _columns(header)
    tiers = {t.key.lower(): t.key for t in program.tiers}
    tiers.update({t.name.lower(): t.key for t in program.tiers})
    plan = ImportPlan()
    seen_ids: dict[int, int] = {}
    seen_emails: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines, as spreadsheets leave at the end
            if len(plan.rows) + plan.error_count >= MAX_ROWS:
                raise ImportFileError(f"at most {MAX_ROWS:,} rows per import")
            row = _parse_row(plan, line, cells, columns, tiers)
            if row is None:
                continue
            if row.shopify_customer_id is not None:
                if row.shopify_customer_id in seen_ids:
                    first = seen_ids[row.shopify_customer_id]
                    plan.refuse(line, "customer_id", f"this customer is already on line {first}")
                    continue
                seen_ids[row.shopify_customer_id] = line
            elif row.email is not None:
                if row.email in seen_emails:
                    first = seen_emails[row.email]
                    plan.refuse(line, "email", f"this email is already on line {first}")
                    continue
                seen_emails[row.email] = line
            plan.rows.append(row)
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num}: {error}") from None
    if not plan.rows and not plan.error_count:
        raise ImportFileError("the file has a header but no rows")
    return plan


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _parse_row(
    plan: ImportPlan,
    line: int,
    cells: list[str],
    columns: dict[str, int],
    tiers: dict[str, str],
) -> BalanceRow | None:
    ok = True
    raw_id, raw_email = _cell(cells, columns, "customer_id"), _cell(cells, columns, "email")
    raw_points, raw_tier = _cell(cells, columns, "points"), _cell(cells, columns, "tier")
    customer_id: int | None = None
    email: str | None = None
    if raw_id:
        raw_id = raw_id.removeprefix("gid://shopify/Customer/")
        if raw_id.isascii() and raw_id.isdigit() and 0 < int(raw_id) < 2**63:
            customer_id = int(raw_id)
        else:
            plan.refuse(line, "customer_id", "must be a Shopify customer id (digits)")
            ok = False
    elif raw_email:
        if EMAIL_RE.match(raw_email) and len(raw_email) <= 320:
            email = raw_email.lower()
        else:
            plan.refuse(line, "email", "is not an email address")
            ok = False
    else:
        plan.refuse(line, "customer", "needs a customer id or an email")
        ok = False
    points = 0
    if raw_points.isascii() and raw_points.isdigit() and int(raw_points) <= MAX_POINTS:
        points = int(raw_points)
    else:
        plan.refuse(line, "points", f"must be a whole number from 0 to {MAX_POINTS:,}")
        ok = False
    tier_key: str | None = None
    if raw_tier:
        tier_key = tiers.get(raw_tier.lower())
        if tier_key is None:
            names = ", ".join(sorted({v for v in tiers.values()}))
            plan.refuse(line, "tier", f"is not a tier of the program ({names})")
            ok = False
    if not ok:
        return None
    return BalanceRow(line, points, customer_id, email, tier_key)


def _batches(items: list[Any], size: int = LOOKUP_BATCH) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def resolve_customers(
    session: Session,
    shop: Shop,
    program: ProgramSettings,
    plan: ImportPlan,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Match each row to its customer (in batches, by index); refuse the rows that match none.

    Rows that stay valid get ``customer_pk`` (None for a new customer) and ``tier_points``.
    """
    thresholds = {t.key: t.threshold for t in program.tiers}
    kept: list[BalanceRow] = []
    done = 0
    for batch in _batches(plan.rows):
        ids = [r.shopify_customer_id for r in batch if r.shopify_customer_id is not None]
        emails = [r.email for r in batch if r.email is not None]
        by_id: dict[int, tuple[int, int, Any]] = {}
        if ids:
            for pk, shopify_id, tier_points, redacted in session.execute(
                select(
                    Customer.id,
                    Customer.shopify_customer_id,
                    Customer.tier_points,
                    Customer.redacted_at,
                ).where(Customer.shop_id == shop.id, Customer.shopify_customer_id.in_(ids))
            ):
                by_id[int(shopify_id or 0)] = (int(pk), int(tier_points), redacted)
        erased: set[str] = set()
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            keys = {suppression_key(shop.id, i): i for i in unknown}
            erased = set(
                session.scalars(
                    select(RedactedCustomer.customer_key).where(
                        RedactedCustomer.shop_id == shop.id,
                        RedactedCustomer.customer_key.in_(list(keys)),
                    )
                )
            )
            erased = {str(keys[k]) for k in erased}
        by_email: dict[str, list[tuple[int, int]]] = {}
        if emails:
            for pk, email, tier_points in session.execute(
                select(Customer.id, func.lower(Customer.email), Customer.tier_points).where(
                    Customer.shop_id == shop.id,
                    # Shopify keeps emails lowercase: an exact match uses the (shop, email) index.
                    Customer.email.in_(emails),
                    Customer.redacted_at.is_(None),
                )
            ):
                by_email.setdefault(str(email), []).append((int(pk), int(tier_points)))
        for row in batch:
            current_tier_points = 0
            if row.shopify_customer_id is not None:
                found = by_id.get(row.shopify_customer_id)
                if found is not None and found[2] is not None:
                    plan.refuse(row.line, "customer_id", "this customer's data was erased")
                    continue
                if found is None and str(row.shopify_customer_id) in erased:
                    plan.refuse(row.line, "customer_id", "this customer's data was erased")
                    continue
                if found is not None:
                    row.customer_pk, current_tier_points = found[0], found[1]
            else:
                matches = by_email.get(row.email or "", [])
                if not matches:
                    plan.refuse(row.line, "email", "no customer of this shop has this email")
                    continue
                if len(matches) > 1:
                    plan.refuse(row.line, "email", "several customers share it: use customer_id")
                    continue
                row.customer_pk, current_tier_points = matches[0]
            if row.tier_key is not None:
                row.tier_points = max(thresholds[row.tier_key] - current_tier_points, 0)
            kept.append(row)
        done += len(batch)
        if progress is not None:
            progress(done)
    plan.rows = kept

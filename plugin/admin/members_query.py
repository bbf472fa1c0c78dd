"""Finding members, for the page ``/members`` and ``GET /api/admin/members?query=&tier=&after=``
(``members``, the routes).

Built to stay fast at a million members on every access path (bench/README.md). Pages are
keyset-paginated on the customer's id (newest first; ``after`` is an opaque cursor, never an
``OFFSET``), and no page counts rows. A search is a prefix match, case-insensitive, on the
email, first name or last name, or "first last" (first name and last name prefixes), each
through its ``lower(…)`` expression index (migrations 0016 and 0022):

- PostgreSQL: ``lower(email) LIKE 'ada%'`` on a ``text_pattern_ops`` index (any collation);
- SQLite: ``lower(email) >= 'ada' AND lower(email) < 'ada' || U+10FFFF`` (its LIKE cannot use
  an expression index; its BINARY collation orders exactly as this range needs).

Which plan runs is decided here, not by the planners (both walked the whole member index for a
rare prefix: an ``OR`` of prefix ranges cannot be read in id order):

1. **The walk**: the index that serves the unfiltered list (``shop_id, is_member, id``, or
   ``shop_id, tier_key, id`` for a tier) read newest first from ``after``, each row checked
   against the search, stopping at the 26th hit or at its budget (``Budget``: 2,000 entries,
   and 3,000 more when those held a few hits). A common prefix fills its page early; a page
   that needs no check beyond the index's is this walk without a budget. The walk returns its
   floor (the entry it stopped at) with its hits, in the same statement.
2. **The arms**, when the walk spent its budget without filling the page: each condition of the
   search on its own index (the email, first-name and last-name prefix ranges, and the
   first-and-last-name range of the "first last" arm), each ``id < after``, its newest 26, then
   the newest 26 of their ``UNION``. Its cost is the number of matches, small exactly when the
   walk was long. Without a search the arms are the first tier's two index walks (its key, and
   members the ledger has not placed yet). A page is one statement, two for a rare search.

Both plans answer the same page (``tests/admin/test_members_api.py`` checks it over generated
members, on both databases). The statements are built once per shape of query, their values
bound as parameters: building them costs more than running them. On SQLite each statement names
its index (``INDEXED BY``): without the statistics of ``ANALYZE`` its planner prefers an
ordered walk to a prefix range as soon as ``id < after`` is a condition.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Alias

from ..loyalty.program import ProgramSettings
from ..models import Customer
from .shops import AdminShop

PAGE_SIZE = 25
MAX_QUERY = 100


@dataclass(frozen=True)
class Budget:
    """How far the walk reads before the arms take over (module docstring).

    ``first`` index entries; then, if that found at least ``walk_on_at`` hits (the search is
    not rare: the arms would read more rows than walking on), ``further`` entries more. A first
    name is shared by ~1 member in 70 (bench/seed/vocabulary.py's names): 1,000 entries find
    ~14 of them, 5,000 ~70, and the arms for a page of them would read all ~14,000 (30–60 ms at
    a million members). A "first last" or a full email (1 in 4,000) finds none: the arms follow
    at once, after a walk of about a millisecond."""

    first: int = 2_000
    further: int = 3_000
    walk_on_at: int = 4


BUDGET = Budget()

CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
MEMBER_INDEX = "ix_customers_shop_member_id"
TIER_INDEX = "ix_customers_shop_tier_id"
EMAIL_INDEX = "ix_customers_shop_email_prefix"
FIRST_LAST_INDEX = "ix_customers_shop_first_last_prefix"
LAST_NAME_INDEX = "ix_customers_shop_last_name_prefix"
LISTED = (
    "id",
    "shopify_customer_id",
    "email",
    "first_name",
    "last_name",
    "tier_key",
    "points_balance",
    "pending_points",
    "marketing_consent",
    "member_since",
)


class MembersQueryError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class MembersQuery:
    text: str = ""
    tier: str | None = None
    after: int | None = None

    @classmethod
    def from_args(cls, args: Any, program: ProgramSettings) -> MembersQuery:
        errors: dict[str, str] = {}
        # Stored strings never hold NUL (webhooks/payload.py drops it, PostgreSQL refuses it),
        # so a search for one means the same without it.
        text = (args.get("query") or "").replace("\x00", "").strip()
        if len(text) > MAX_QUERY:
            errors["query"] = f"at most {MAX_QUERY} characters"
        tier = args.get("tier") or None
        if tier is not None and tier not in {t.key for t in program.tiers}:
            errors["tier"] = "not one of this program's tiers"
        after = None
        if args.get("after"):
            after = decode_cursor(args["after"])
            if after is None:
                errors["after"] = "not a cursor this API gave out"
        if errors:
            raise MembersQueryError(errors)
        return cls(text=text.lower(), tier=tier, after=after)


def encode_cursor(customer_pk: int) -> str:
    return base64.urlsafe_b64encode(f"m1:{customer_pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, number = raw.partition(":")
    if prefix != "m1" or not (number.isascii() and number.isdigit()) or not 0 < int(number) < 2**63:
        return None
    return int(number)


class IndexedBy(Alias):
    """``customers AS <index> INDEXED BY <index>`` on SQLite, whose dialect renders no table
    hints: the statement fails rather than run without that index. Elsewhere a plain alias."""

    inherit_cache = True


@compiles(IndexedBy, "sqlite")
def _indexed_by_on_sqlite(element: IndexedBy, compiler: SQLCompiler, **kw: Any) -> str:
    rendered: str = compiler.visit_alias(element, **kw)  # type: ignore[no-untyped-call]
    return f"{rendered} INDEXED BY {element.name}" if kw.get("asfrom") else rendered


def _on(index: str, dialect: str) -> FromClause:
    return IndexedBy._construct(CUSTOMERS, name=index) if dialect == "sqlite" else CUSTOMERS


def _prefix(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``lower(column)`` starts with the value given as ``name`` (``prefix_values``)."""
    lowered = func.lower(column)
    if dialect == "postgresql":
        return lowered.like(bindparam(f"{name}_like", type_=String), escape="\\")
    start, end = bindparam(f"{name}_from", type_=String), bindparam(f"{name}_to", type_=String)
    return and_(lowered >= start, lowered < end)


def prefix_values(name: str, text: str, dialect: str) -> dict[str, str]:
    if dialect == "postgresql":
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return {f"{name}_like": escaped + "%"}
    # Every string starting with `text` sorts in [text, text + U+10FFFF) under BINARY.
    return {f"{name}_from": text, f"{name}_to": text + "\U0010ffff"}


Condition = Callable[[FromClause], ColumnElement[bool]]


def _search_arms(first_last: bool, dialect: str) -> list[tuple[str, Condition]]:
    """Each way a member matches the search (``text``; "first last" as ``first`` and
    ``rest``), with the index that finds it."""
    arms: list[tuple[str, Condition]] = [
        (EMAIL_INDEX, lambda t: _prefix(t.c.email, "text", dialect)),
        (FIRST_LAST_INDEX, lambda t: _prefix(t.c.first_name, "text", dialect)),
        (LAST_NAME_INDEX, lambda t: _prefix(t.c.last_name, "text", dialect)),
    ]
    if first_last:
        # "ada love": first name "ada…" and last name "love…".
        arms.append(
            (
                FIRST_LAST_INDEX,
                lambda t: and_(
                    _prefix(t.c.first_name, "first", dialect),
                    _prefix(t.c.last_name, "rest", dialect),
                ),
            )
        )
    return arms


@dataclass(frozen=True)
class MemberSearch:
    """The statements behind one page (module docstring) and their parameters. ``walk`` alone
    answers when ``arms`` is None; otherwise its rows are its hits (with a null ``id`` when
    there is none) and its ``floor``, the id of the entry it stopped at (null: it saw every
    candidate within its budget)."""

    walk: Select[Any]
    arms: Select[Any] | None
    params: dict[str, Any]


def member_search(
    shop_id: int,
    program: ProgramSettings,
    q: MembersQuery,
    dialect: str,
    budget: int = BUDGET.first,
) -> MemberSearch:
    first_tier = q.tier is not None and q.tier == program.tiers[0].key
    tier = None if q.tier is None else "first" if first_tier else "other"
    first, _, rest = q.text.partition(" ")
    params: dict[str, Any] = {"shop_id": shop_id, "tier": q.tier, "after": q.after}
    if q.text:
        params.update(prefix_values("text", q.text, dialect))
    if rest:
        params.update(prefix_values("first", first, dialect))
        params.update(prefix_values("rest", rest.strip(), dialect))
    shape = (dialect, tier, bool(q.text), bool(rest), q.after is not None, budget)
    walk, arms = _statements(*shape)
    return MemberSearch(walk=walk, arms=arms, params=params)


@functools.lru_cache(maxsize=256)
def _statements(
    dialect: str, tier: str | None, text: bool, first_last: bool, after: bool, budget: int
) -> tuple[Select[Any], Select[Any] | None]:
    """The statements of one shape of query, built once (each build costs more than running
    it); its values are parameters (``member_search``)."""

    def bounds(t: FromClause) -> list[ColumnElement[bool]]:
        """The keyset: in every index entry (SQLite checks it there before reading the row)."""
        return [t.c.id < bindparam("after")] if after else []

    def base(t: FromClause) -> list[ColumnElement[bool]]:
        return [
            t.c.shop_id == bindparam("shop_id"),
            *bounds(t),
            # "= true", not "IS TRUE": only an equality can use (shop_id, is_member, id).
            t.c.is_member == true(),
            t.c.shopify_customer_id.is_not(None),
        ]

    # Newest first, spelled as the per-shop index that serves it: the leading columns are
    # constants here, so the order is exactly id's, but the planner can no longer walk the
    # primary key backwards past every other shop's newer customers (bench/README.md).
    def member_order(t: FromClause) -> list[Any]:
        return [t.c.shop_id.desc(), t.c.is_member.desc(), t.c.id.desc()]

    def tier_order(t: FromClause) -> list[Any]:
        return [t.c.shop_id.desc(), t.c.tier_key.desc(), t.c.id.desc()]

    walk_index, walk_order = MEMBER_INDEX, member_order
    tier_key: Condition | None = None  # the tier, when its index is walked
    tier_arms: list[Condition] = []  # the first tier: its key, or not placed yet
    if tier == "first":
        # Customers the ledger has not placed yet (tier_key null) are in the first tier.
        tier_arms = [lambda t: t.c.tier_key == bindparam("tier"), lambda t: t.c.tier_key.is_(None)]
    elif tier == "other":
        walk_index, walk_order = TIER_INDEX, tier_order
        tier_key = lambda t: t.c.tier_key == bindparam("tier")  # noqa: E731
    search_arms = _search_arms(first_last, dialect) if text else []

    def narrowed(t: FromClause) -> list[ColumnElement[bool]]:
        return [*base(t), *([tier_key(t)] if tier_key else [])]

    def in_first_tier(t: FromClause) -> list[ColumnElement[bool]]:
        return [or_(*(key(t) for key in tier_arms))] if tier_arms else []

    def search(t: FromClause) -> list[ColumnElement[bool]]:
        return [or_(*(match(t) for _, match in search_arms))] if search_arms else []

    def columns(t: FromClause) -> list[Any]:
        return [t.c[name] for name in LISTED]

    t = _on(walk_index, dialect)
    if not (tier_arms or search_arms):
        plain = select(*columns(t)).where(*narrowed(t)).order_by(*walk_order(t))
        return plain.limit(PAGE_SIZE + 1), None

    def held(t: FromClause) -> list[ColumnElement[bool]]:
        """What the walked index itself holds of the conditions (no row is read for them)."""
        key = tier_key(t) if tier_key else t.c.is_member == true()
        return [t.c.shop_id == bindparam("shop_id"), key, *bounds(t)]

    # The walked index's `budget`-th entry from `after` down: none when the walk sees every
    # candidate within its budget. Read from the index alone.
    floor = (
        select(t.c.id)
        .where(*held(t))
        .order_by(*walk_order(t))
        .offset(budget - 1)
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )
    hits: Any
    if dialect == "sqlite":
        # INDEXED BY holds SQLite to the walk, so the filter sits beside it: the walk reads
        # the index in id order down to the floor, and stops at its 26th hit.
        where = [*narrowed(t), t.c.id >= func.coalesce(floor, 0), *in_first_tier(t), *search(t)]
        hits = select(*columns(t)).where(*where).order_by(*walk_order(t))
    else:
        # PostgreSQL: the entries down to the floor are a subquery of their own (its LIMIT
        # keeps the planner from pushing the filter into it and reading the prefix indexes
        # instead), and the hits are ordered as the planner knows the subquery is, so the
        # walk stops at its 26th hit: by id, once the constants are left out (the shop and a
        # tier's key; "is_member = true" is not one to the planner: it becomes "is_member").
        budgeted = (
            select(*columns(t), t.c.is_member)
            .where(*narrowed(t))
            .order_by(*walk_order(t))
            .limit(budget)
            .subquery("budgeted")
        )
        ordered = [budgeted.c.id.desc()]
        if walk_index == MEMBER_INDEX:
            ordered.insert(0, budgeted.c.is_member.desc())
        # Down to the floor: its index entries, less the rows they do not list. Outside the
        # subquery: as its condition (a parameter, to the planner a third of the table), the
        # floor made the primary key look cheaper than a tier's index.
        floored = budgeted.c.id >= func.coalesce(floor, 0)
        where = [floored, *in_first_tier(budgeted), *search(budgeted)]
        hits = select(*columns(budgeted)).where(*where).order_by(*ordered)
    hits = hits.limit(PAGE_SIZE + 1).subquery("hits")
    # One row even without a hit, so that the floor always comes back (a hit's columns null).
    bound = select(floor.label("floor")).subquery("bound")
    walk = (
        select(bound.c.floor, *hits.c)
        .select_from(bound.outerjoin(hits, true()))
        .order_by(hits.c.id.desc())
    )

    def arm(index: str, match: Condition) -> Select[Any]:
        a = _on(index, dialect)
        if index == TIER_INDEX:  # a first tier's key: its index gives id order
            newest = select(*columns(a)).where(*base(a), match(a)).order_by(*tier_order(a))
        else:
            # Its matches, planned for all of them (OFFSET 0: a subquery the planner keeps
            # whole), then the newest: with the ORDER BY and LIMIT beside the range, PostgreSQL
            # may walk the primary key in id order instead, as it did for a whole list.
            # The match first: SQLite checks it in the index entry, and reads the row only
            # for a match (a condition on the row's columns first would read every entry's).
            where = [match(a), *narrowed(a), *in_first_tier(a)]
            matches = select(*columns(a)).where(*where).offset(0).subquery()
            newest = select(matches).order_by(matches.c.id.desc())
        return select(newest.limit(PAGE_SIZE + 1).subquery())

    if search_arms:
        arms = [arm(index, match) for index, match in search_arms]
    else:
        arms = [arm(TIER_INDEX, key) for key in tier_arms]
    found = union(*arms).subquery("found")
    return walk, select(found).order_by(found.c.id.desc()).limit(PAGE_SIZE + 1)


def _hits(walked: Sequence[Row[Any]]) -> tuple[list[Row[Any]], int | None]:
    """A budgeted walk's hits, and its floor."""
    return [row for row in walked if row.id is not None], walked[0].floor


def find_members(
    connection: Connection, shop: AdminShop, q: MembersQuery, budget: Budget = BUDGET
) -> dict[str, Any]:
    """One page (module docstring): the walk; when it spent its budget short of a page and
    its hits say the search is not rare, the walk on from where it stopped; then the arms."""
    program = shop.program
    dialect = connection.dialect.name
    search = member_search(shop.id, program, q, dialect, budget.first)
    rows: Sequence[Row[Any]] = connection.execute(search.walk, search.params).all()
    if search.arms is not None:
        hits, floor = _hits(rows)
        if PAGE_SIZE >= len(hits) >= budget.walk_on_at and floor is not None:
            # Not rare: the arms would read many matches; the walk finds the rest sooner.
            on = member_search(shop.id, program, replace(q, after=floor), dialect, budget.further)
            further, floor = _hits(connection.execute(on.walk, on.params).all())
            hits = [*hits, *further]
        if len(hits) <= PAGE_SIZE and floor is not None:
            hits = list(connection.execute(search.arms, search.params).all())
        rows = hits
    page, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return {
        "members": [
            {
                "customer_id": str(c.shopify_customer_id),
                "email": c.email,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "tier": {
                    "key": program.tier_by_key(c.tier_key).key,
                    "name": program.tier_by_key(c.tier_key).name,
                },
                "points": c.points_balance,
                "pending_points": c.pending_points,
                "marketing_consent": c.marketing_consent,
                "member_since": c.member_since.isoformat() if c.member_since else None,
            }
            for c in page
        ],
        "next_cursor": encode_cursor(page[-1].id) if more else None,
    }

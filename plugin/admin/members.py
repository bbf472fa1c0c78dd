"""Finding members: the page ``/members`` and ``GET /api/admin/members?query=&tier=&after=``.

Built to stay fast at a million members: every access path has its index (migration 0016),
pages are keyset-paginated on the customer's id (newest first; ``after`` is an opaque cursor,
never an ``OFFSET``), and no page counts rows. A search is a prefix match, case-insensitive, on
the email, first name or last name, each through its ``lower(…)`` expression index:

- PostgreSQL: ``lower(email) LIKE 'ada%'`` on a ``text_pattern_ops`` index (any collation);
- SQLite: ``lower(email) >= 'ada' AND lower(email) < 'adb'`` (its LIKE cannot use an
  expression index; its BINARY collation orders exactly as this range needs).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, jsonify, make_response, request
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session

from ..auth import admin_caller, installed_shop
from ..ledger import program_of
from ..loyalty.program import ProgramSettings
from ..models import Customer, Shop
from ..runtime import kanta
from .embedded import AdminPage, embedded_page, render_page
from .openapi import json_response, secured

bp = Blueprint("admin_members", __name__)

PAGE_SIZE = 25
MAX_QUERY = 100


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
        text = (args.get("query") or "").strip()
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


def _prefix(column: Any, text: str, dialect: str) -> ColumnElement[bool]:
    lowered = func.lower(column)
    if dialect == "postgresql":
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return lowered.like(escaped + "%", escape="\\")
    # Every string starting with `text` sorts in [text, text + U+10FFFF) under BINARY.
    return and_(lowered >= text, lowered < text + "\U0010ffff")


def members_select(
    shop: Shop, program: ProgramSettings, q: MembersQuery, dialect: str
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [
        Customer.shop_id == shop.id,
        # "= true", not "IS TRUE": only an equality can use (shop_id, is_member, id).
        Customer.is_member == true(),
        Customer.shopify_customer_id.is_not(None),
    ]
    # Newest first, spelled as the per-shop index that serves it: the leading columns are
    # constants here, so the order is exactly id's, but the planner can no longer walk the
    # primary key backwards past every other shop's newer customers (bench/README.md).
    order: list[Any] = [Customer.shop_id.desc(), Customer.is_member.desc(), Customer.id.desc()]
    if q.tier is not None:
        # Customers the ledger has not placed yet (tier_key null) are in the first tier.
        if q.tier == program.tiers[0].key:
            conditions.append(or_(Customer.tier_key == q.tier, Customer.tier_key.is_(None)))
        else:
            conditions.append(Customer.tier_key == q.tier)
            order = [Customer.shop_id.desc(), Customer.tier_key.desc(), Customer.id.desc()]
    if q.text:
        first, _, rest = q.text.partition(" ")
        matches = [
            _prefix(Customer.email, q.text, dialect),
            _prefix(Customer.first_name, q.text, dialect),
            _prefix(Customer.last_name, q.text, dialect),
        ]
        if rest:
            # "ada love": first name "ada…" and last name "love…".
            matches.append(
                and_(
                    _prefix(Customer.first_name, first, dialect),
                    _prefix(Customer.last_name, rest.strip(), dialect),
                )
            )
        conditions.append(or_(*matches))
    if q.after is not None:
        conditions.append(Customer.id < q.after)
    return select(Customer).where(*conditions).order_by(*order).limit(PAGE_SIZE + 1)


def find_members(session: Session, shop: Shop, q: MembersQuery) -> dict[str, Any]:
    program = program_of(shop)
    dialect = session.get_bind().dialect.name
    rows = list(session.scalars(members_select(shop, program, q, dialect)))
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


@bp.get("/api/admin/members")
def members_api() -> Any:
    caller = admin_caller()
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        try:
            q = MembersQuery.from_args(request.args, program_of(shop))
        except MembersQueryError as error:
            abort(make_response({"error": "invalid query", "errors": error.errors}, 400))
        return jsonify(find_members(session, shop, q))


@bp.get("/members")
@embedded_page
def members_page(page: AdminPage) -> str:
    with kanta().db.read() as session:
        shop = installed_shop(session, page.shop_domain)
        program = program_of(shop)
        errors: dict[str, str] = {}
        try:
            q = MembersQuery.from_args(request.args, program)
        except MembersQueryError as error:
            errors, q = error.errors, MembersQuery()
        found = find_members(session, shop, q)
        any_member = (
            bool(found["members"])
            or session.scalar(
                select(Customer.id)
                .where(Customer.shop_id == shop.id, Customer.is_member.is_(True))
                .limit(1)
            )
            is not None
        )
    return render_page(
        "members.html",
        page,
        active="/members",
        found=found,
        query=request.args.get("query", ""),
        tier=request.args.get("tier", ""),
        tier_options=[("", "All tiers")] + [(t.key, t.name) for t in program.tiers],
        errors=errors,
        any_member=any_member,
        searching=bool(q.text or q.tier),
        first_page=q.after is None,
    )


OPENAPI_PATHS: dict[str, Any] = {
    "/api/admin/members": {
        "get": secured(
            {
                "summary": "Members, newest first: prefix search on email or name, tier filter",
                "operationId": "listMembers",
                "parameters": [
                    {
                        "name": "query",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": MAX_QUERY},
                        "description": "Start of an email, first name, last name, or 'first last'.",
                    },
                    {
                        "name": "tier",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "A tier key of the program (GET /api/admin/program).",
                    },
                    {
                        "name": "after",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "The next_cursor of the previous page.",
                    },
                ],
                "responses": {
                    "200": json_response(
                        "One page of members",
                        {
                            "type": "object",
                            "required": ["members", "next_cursor"],
                            "properties": {
                                "members": {
                                    "type": "array",
                                    "maxItems": PAGE_SIZE,
                                    "items": {
                                        "type": "object",
                                        "required": ["customer_id", "points", "tier"],
                                        "properties": {
                                            "customer_id": {"type": "string"},
                                            "email": {"type": "string", "nullable": True},
                                            "first_name": {"type": "string", "nullable": True},
                                            "last_name": {"type": "string", "nullable": True},
                                            "tier": {"type": "object"},
                                            "points": {"type": "integer"},
                                            "pending_points": {"type": "integer"},
                                            "marketing_consent": {
                                                "type": "boolean",
                                                "nullable": True,
                                            },
                                            "member_since": {
                                                "type": "string",
                                                "format": "date-time",
                                                "nullable": True,
                                            },
                                        },
                                    },
                                },
                                "next_cursor": {"type": "string", "nullable": True},
                            },
                        },
                    ),
                    "400": json_response(
                        "Invalid query parameters",
                        {"$ref": "#/components/schemas/ValidationErrors"},
                    ),
                },
            }
        )
    },
}

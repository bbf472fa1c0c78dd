"""The members list: the page ``/members`` and ``GET /api/admin/members?query=&tier=&after=``.

How a page is found, fast at a million members, is ``members_query``'s: this module reads the
request, runs the query on the read engine and renders or answers it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, make_response, request
from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..auth import admin_caller
from ..models import Customer
from ..runtime import kanta
from .embedded import AdminPage, embedded_page, render_page
from .members_query import MAX_QUERY, PAGE_SIZE, MembersQuery, MembersQueryError, find_members
from .openapi import json_response, secured
from .shops import admin_shop

bp = Blueprint("admin_members", __name__)


@bp.get("/api/admin/members")
def members_api() -> Any:
    caller = admin_caller()
    shop = admin_shop(caller.shop_domain)
    try:
        q = MembersQuery.from_args(request.args, shop.program)
    except MembersQueryError as error:
        abort(make_response({"error": "invalid query", "errors": error.errors}, 400))
    # The read engine: autocommit on PostgreSQL, so the page is its one or two statements.
    return jsonify(kanta().db.run_read(lambda connection: find_members(connection, shop, q)))


@bp.get("/members")
@embedded_page
def members_page(page: AdminPage) -> str:
    shop = admin_shop(page.shop_domain)
    program = shop.program
    errors: dict[str, str] = {}
    try:
        q = MembersQuery.from_args(request.args, program)
    except MembersQueryError as error:
        errors, q = error.errors, MembersQuery()

    def read(connection: Connection) -> tuple[dict[str, Any], bool]:
        found = find_members(connection, shop, q)
        any_member = bool(found["members"]) or (
            connection.scalar(
                select(Customer.id)
                .where(Customer.shop_id == shop.id, Customer.is_member.is_(True))
                .limit(1)
            )
            is not None
        )
        return found, any_member

    found, any_member = kanta().db.run_read(read)
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

"""The Segments page and ``/api/admin/segments``: members by filter, the filters' choices, the
CSV export (rules in ``segments``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request, stream_with_context
from sqlalchemy import func, select

from ..auth import admin_caller, installed_shop
from ..ledger import program_of
from ..models import CollectionProduct, Customer, OrderLine
from ..runtime import kanta
from .embedded import AdminPage, embedded_page, render_page
from .openapi import secured
from .query_args import unknown_arguments
from .segments import (
    COLUMN_SETS,
    FILTERS,
    MAX_PAGE,
    PAGE,
    SegmentError,
    export_rows,
    page_of_members,
    parse_segment,
    segment_query,
)

bp = Blueprint("admin_segments_api", __name__)

_FILTERS = [
    {"name": "tier", "in": "query", "schema": {"type": "string"}},
    {"name": "points_min", "in": "query", "schema": {"type": "integer"}},
    {"name": "points_max", "in": "query", "schema": {"type": "integer"}},
    {"name": "last_order_from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "last_order_to", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "consent", "in": "query", "schema": {"enum": ["yes", "no", "unknown"]}},
    {"name": "product_id", "in": "query", "schema": {"type": "string", "pattern": r"^\d+$"}},
    {"name": "collection_id", "in": "query", "schema": {"type": "string", "pattern": r"^\d+$"}},
]
_INVALID = {"description": 'A filter is invalid: `{"errors": {field: message}}`'}

_PATHS: dict[str, Any] = {
    "/api/admin/segments/members": {
        "get": {
            "summary": "Members matching the filters, by keyset pages",
            "parameters": [
                *_FILTERS,
                {"name": "after", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                },
                {"name": "count", "in": "query", "schema": {"enum": ["0", "1"]}},
            ],
            "responses": {"200": {"description": "A page of members"}, "422": _INVALID},
        }
    },
    "/api/admin/segments/options": {
        "get": {
            "summary": "Products bought and collections, to filter by",
            "responses": {"200": {"description": "Products and collections"}},
        }
    },
    "/api/admin/segments/export.csv": {
        "get": {
            "summary": "The segment as CSV for a newsletter tool (streamed)",
            "parameters": [
                *_FILTERS,
                {"name": "columns", "in": "query", "schema": {"enum": list(COLUMN_SETS)}},
            ],
            "responses": {
                "200": {
                    "description": "CSV",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                "422": _INVALID,
            },
        }
    },
}
OPERATION_IDS = {
    "/api/admin/segments/members": {"get": "listSegmentMembers"},
    "/api/admin/segments/options": {"get": "getSegmentOptions"},
    "/api/admin/segments/export.csv": {"get": "exportSegment"},
}
OPENAPI_PATHS: dict[str, Any] = {
    path: {
        method: secured({"operationId": OPERATION_IDS[path][method], **operation})
        for method, operation in operations.items()
    }
    for path, operations in _PATHS.items()
}


def _invalid(error: SegmentError) -> Any:
    return jsonify({"error": "invalid filter", "errors": error.errors}), 422


@bp.get("/api/admin/segments/members")
def segment_members() -> Any:
    caller = admin_caller()
    errors: dict[str, str] = {}
    after: int | None = None
    raw_after = request.args.get("after", "")
    if raw_after:
        if raw_after.isascii() and raw_after.isdigit() and int(raw_after) < 2**63:
            after = int(raw_after)
        else:
            errors["after"] = "must be the cursor of a previous page"
    limit = PAGE
    raw_limit = request.args.get("limit", "")
    if raw_limit:
        if raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_PAGE:
            limit = int(raw_limit)
        else:
            errors["limit"] = f"must be a whole number from 1 to {MAX_PAGE}"
    errors.update(unknown_arguments((*FILTERS, "after", "limit", "count")))
    if request.args.get("count", "0") not in ("0", "1"):
        errors["count"] = "must be 0 or 1"
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        program = program_of(shop)
        filters = {k: v for k, v in request.args.items() if k not in ("after", "limit", "count")}
        try:
            segment = parse_segment(filters, program)
        except SegmentError as error:
            errors.update(error.errors)
        if errors:
            return _invalid(SegmentError(errors))
        members, cursor = page_of_members(session, shop, program, segment, after, limit)
        body: dict[str, Any] = {"members": members, "next": str(cursor) if cursor else None}
        if request.args.get("count") == "1":
            # Counted on request only (the page's first load), never per page.
            query = segment_query(shop, program, segment).order_by(None).subquery()
            body["count"] = session.scalar(select(func.count()).select_from(query))
        return jsonify(body)


@bp.get("/api/admin/segments/options")
def segment_options() -> Any:
    caller = admin_caller()
    unknown = unknown_arguments(())
    if unknown:
        return _invalid(SegmentError(unknown))
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        products = session.execute(
            select(OrderLine.product_id, func.max(OrderLine.title))
            .where(OrderLine.shop_id == shop.id, OrderLine.product_id.is_not(None))
            .group_by(OrderLine.product_id)
            .order_by(func.max(OrderLine.title))
            .limit(500)
        ).all()
        collections = session.execute(
            select(
                CollectionProduct.shopify_collection_id,
                func.max(CollectionProduct.collection_title),
            )
            .where(CollectionProduct.shop_id == shop.id)
            .group_by(CollectionProduct.shopify_collection_id)
            .order_by(func.max(CollectionProduct.collection_title))
            .limit(500)
        ).all()
        return jsonify(
            {
                "products": [{"id": str(p), "title": t or f"Product {p}"} for p, t in products],
                "collections": [{"id": str(c), "title": t} for c, t in collections],
                "tiers": [{"key": t.key, "name": t.name} for t in program_of(shop).tiers],
            }
        )


@bp.get("/api/admin/segments/export.csv")
def segment_export() -> Any:
    caller = admin_caller()
    columns = request.args.get("columns") or "newsletter"
    k = kanta()
    with k.db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        program = program_of(shop)
        shop_id = shop.id
        filters = {k_: v for k_, v in request.args.items() if k_ != "columns"}
        try:
            unknown = unknown_arguments((*FILTERS, "columns"))
            if unknown:
                raise SegmentError(unknown)
            segment = parse_segment(filters, program)
            if columns not in COLUMN_SETS:
                raise SegmentError({"columns": "must be newsletter or klaviyo"})
        except SegmentError as error:
            return _invalid(error)
    response = Response(
        stream_with_context(export_rows(k.db, shop_id, program, segment, columns)),
        mimetype="text/csv",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="kanta-members-{columns}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/segments")
@embedded_page
def segments_view(page: AdminPage) -> str:
    # A form submits its empty fields: here they mean "any".
    filters = {k: v for k, v in request.args.items() if k in FILTERS and v.strip()}
    with kanta().db.read() as session:
        shop = installed_shop(session, page.shop_domain)
        program = program_of(shop)
        errors: dict[str, str] = {}
        try:
            segment = parse_segment(filters, program)
        except SegmentError as error:
            errors, segment = error.errors, parse_segment({}, program)
        members, cursor = page_of_members(session, shop, program, segment, None, PAGE)
        count = session.scalar(
            select(func.count()).select_from(
                segment_query(shop, program, segment).order_by(None).subquery()
            )
        )
        products = session.execute(
            select(OrderLine.product_id, func.max(OrderLine.title))
            .where(OrderLine.shop_id == shop.id, OrderLine.product_id.is_not(None))
            .group_by(OrderLine.product_id)
            .order_by(func.max(OrderLine.title))
            .limit(500)
        ).all()
        collections = session.execute(
            select(
                CollectionProduct.shopify_collection_id,
                func.max(CollectionProduct.collection_title),
            )
            .where(CollectionProduct.shop_id == shop.id)
            .group_by(CollectionProduct.shopify_collection_id)
            .order_by(func.max(CollectionProduct.collection_title))
        ).all()
        any_member = session.scalar(
            select(Customer.id)
            .where(Customer.shop_id == shop.id, Customer.is_member.is_(True))
            .limit(1)
        )
    query = "&".join(f"{k}={quote(v)}" for k, v in filters.items() if k not in errors)
    return render_page(
        "segments.html",
        page,
        active="/segments",
        filters=filters,
        errors=errors,
        members=members,
        more=cursor is not None,
        count=count or 0,
        any_member=any_member is not None,
        tier_options=[("", "Any tier")] + [(t.key, t.name) for t in program.tiers],
        consent_options=[
            ("", "Any"),
            ("yes", "Agreed"),
            ("no", "Declined"),
            ("unknown", "Not asked"),
        ],
        product_options=[("", "Any product")]
        + [(str(p), t or f"Product {p}") for p, t in products],
        collection_options=[("", "Any collection")] + [(str(c), t) for c, t in collections],
        export_query=query,
    )

"""The Import page and ``/api/admin/imports``: preview, start and follow an import of balances
(reading the file: ``imports``; the job: ``plugin.jobs.balance_import``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, make_response, request
from sqlalchemy import select

from ..auth import admin_caller, installed_shop
from ..ledger import program_of
from ..models import BalanceImport
from ..runtime import kanta
from .embedded import AdminPage, embedded_page, render_page
from .imports import ImportFileError, decode, parse_balances, resolve_customers
from .openapi import secured
from .query_args import unknown_arguments

bp = Blueprint("admin_imports_api", __name__)

# 200,000 rows of "customer id, points, tier" fit well inside this.
MAX_IMPORT_BYTES = 24 * 1024 * 1024
PREVIEW_ROWS = 20

_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "line": {"type": "integer"},
            "field": {"type": "string"},
            "message": {"type": "string"},
        },
    },
}
_STATUS = {
    "type": "object",
    "required": ["id", "status", "processed", "total", "errors"],
    "properties": {
        "id": {"type": "string"},
        "status": {"enum": ["queued", "validating", "writing", "done", "failed"]},
        "processed": {"type": "integer"},
        "total": {"type": "integer"},
        "imported": {"type": "integer"},
        "points_total": {"type": "integer"},
        "errors": _ERRORS,
    },
}
_CSV_BODY = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string"},
            "example": "customer_id,points,tier\n7390000000001,1200,Silver\n",
        }
    },
}

_PATHS: dict[str, Any] = {
    "/api/admin/imports": {
        "get": {
            "summary": "The shop's balance imports, newest first",
            "responses": {"200": {"description": "Imports"}, "401": {"description": "No session"}},
        },
        "post": {
            "summary": "Preview (dry_run=1) or start an import of balances from a CSV body",
            "parameters": [
                {"name": "dry_run", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}}
            ],
            "requestBody": _CSV_BODY,
            "responses": {
                "200": {"description": "Dry run: rows checked, per-row errors; nothing written"},
                "202": {"description": 'Import started: `{"id"}`'},
                "401": {"description": "No session"},
                "413": {"description": "The file is too large"},
                "422": {"description": "The file or some rows cannot be read; nothing written"},
            },
        },
    },
    "/api/admin/imports/{import_id}": {
        "get": {
            "summary": "Progress of an import",
            "parameters": [
                {"name": "import_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "Status",
                    "content": {"application/json": {"schema": _STATUS}},
                },
                "404": {"description": "No such import in this shop"},
            },
        }
    },
}
OPERATION_IDS = {
    "/api/admin/imports": {"get": "listImports", "post": "startImport"},
    "/api/admin/imports/{import_id}": {"get": "getImport"},
}
OPENAPI_PATHS: dict[str, Any] = {
    path: {
        method: secured({"operationId": OPERATION_IDS[path][method], **operation})
        for method, operation in operations.items()
    }
    for path, operations in _PATHS.items()
}


def _status(record: BalanceImport) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "status": record.status,
        "processed": record.processed,
        "total": record.total,
        "imported": record.imported,
        "points_total": record.points_total,
        "errors": record.errors or [],
        "created_at": record.created_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
    }


@bp.post("/api/admin/imports")
def start_import() -> Any:
    caller = admin_caller()
    request.max_content_length = MAX_IMPORT_BYTES
    raw_dry_run = request.args.get("dry_run", "0")
    unknown = unknown_arguments(("dry_run",))
    if raw_dry_run not in ("0", "1"):
        unknown["dry_run"] = "must be 0 or 1"
    if unknown:
        return jsonify({"error": "invalid request", "errors": unknown}), 422
    dry_run = raw_dry_run == "1"
    k = kanta()
    try:
        text = decode(request.get_data(cache=False))
        with k.db.read() as session:
            shop = installed_shop(session, caller.shop_domain)
            program = program_of(shop)
            plan = parse_balances(text, program)
            if dry_run and not plan.error_count:
                resolve_customers(session, shop, program, plan)
    except ImportFileError as error:
        return jsonify({"error": str(error), "errors": [_file_error(str(error))]}), 422
    summary = {
        "total": len(plan.rows) + plan.error_count,
        "valid": len(plan.rows),
        "error_count": plan.error_count,
        "errors": plan.errors,
        "points_total": plan.points_total,
    }
    if dry_run:
        return jsonify(
            {
                **summary,
                "dry_run": True,
                "new_customers": sum(1 for r in plan.rows if r.customer_pk is None),
                "preview": [
                    {
                        "line": r.line,
                        "customer_id": str(r.shopify_customer_id)
                        if r.shopify_customer_id
                        else None,
                        "email": r.email,
                        "points": r.points,
                        "tier": r.tier_key,
                    }
                    for r in plan.rows[:PREVIEW_ROWS]
                ],
            }
        )
    if plan.error_count:
        return jsonify({**summary, "error": "some rows cannot be read: nothing was imported"}), 422
    with k.db.transaction() as session:
        shop = installed_shop(session, caller.shop_domain)
        record = BalanceImport(
            shop_id=shop.id,
            status="queued",
            total=summary["total"],
            processed=0,
            imported=0,
            points_total=0,
            errors=[],
            csv_text=text,
            actor=f"staff:{caller.user_id}" if caller.user_id else "staff",
            created_at=k.now(),
        )
        session.add(record)
        session.flush()
        import_id = record.id
    k.jobs.enqueue("import_balances", import_id=import_id)
    return jsonify({"id": str(import_id)}), 202


def _file_error(message: str) -> dict[str, Any]:
    return {"line": 0, "field": "file", "message": message}


@bp.get("/api/admin/imports")
def list_imports() -> Any:
    caller = admin_caller()
    if unknown_arguments(()):
        return jsonify({"error": "invalid request", "errors": unknown_arguments(())}), 422
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        records = session.scalars(
            select(BalanceImport)
            .where(BalanceImport.shop_id == shop.id)
            .order_by(BalanceImport.id.desc())
            .limit(50)
        )
        return jsonify({"imports": [_status(r) for r in records]})


@bp.get("/api/admin/imports/<import_id>")
def import_status(import_id: str) -> Any:
    caller = admin_caller()
    if unknown_arguments(()):
        return jsonify({"error": "invalid request", "errors": unknown_arguments(())}), 422
    if not (import_id.isascii() and import_id.isdigit() and 0 < int(import_id) < 2**63):
        abort(make_response({"error": "no such import"}, 404))
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        record = session.scalars(
            select(BalanceImport).where(
                BalanceImport.shop_id == shop.id, BalanceImport.id == int(import_id)
            )
        ).one_or_none()
        if record is None:
            abort(make_response({"error": "no such import"}, 404))
        return jsonify(_status(record))


@bp.get("/import")
@embedded_page
def import_view(page: AdminPage) -> str:
    with kanta().db.read() as session:
        shop = installed_shop(session, page.shop_domain)
        program = program_of(shop)
        records = list(
            session.scalars(
                select(BalanceImport)
                .where(BalanceImport.shop_id == shop.id)
                .order_by(BalanceImport.id.desc())
                .limit(20)
            )
        )
    return render_page(
        "import.html",
        page,
        active="/import",
        imports=[_status(r) for r in records],
        tiers=[t.name for t in program.tiers],
    )

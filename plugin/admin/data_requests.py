"""``customers/data_request`` exports, prepared by the compliance webhook, for download."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, make_response
from sqlalchemy import select

from ..auth import admin_caller, installed_shop
from ..models import DataExport
from ..runtime import kanta
from .openapi import json_response, secured

bp = Blueprint("admin_data_requests", __name__)


@bp.get("/api/admin/data-requests")
def data_requests() -> Any:
    """The exports prepared for ``customers/data_request``, newest first."""
    caller = admin_caller()
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        exports = session.execute(
            select(
                DataExport.data_request_id,
                DataExport.shopify_customer_id,
                DataExport.created_at,
            )
            .where(DataExport.shop_id == shop.id)
            .order_by(DataExport.created_at.desc(), DataExport.id.desc())
            .limit(500)
        ).all()
        return jsonify(
            {
                "data_requests": [
                    {
                        "data_request_id": str(request_id),
                        "customer_id": str(customer_id) if customer_id else None,
                        "prepared_at": prepared_at.isoformat(),
                        "download_url": f"/api/admin/data-requests/{request_id}",
                    }
                    for request_id, customer_id, prepared_at in exports
                ]
            }
        )


@bp.get("/api/admin/data-requests/<data_request_id>")
def data_request_download(data_request_id: str) -> Any:
    """One export as a JSON file the merchant sends to the customer."""
    caller = admin_caller()
    if not data_request_id.isdigit() or not 0 < int(data_request_id) < 2**63:
        abort(make_response({"error": "no such data request"}, 404))
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        export = session.scalars(
            select(DataExport).where(
                DataExport.shop_id == shop.id, DataExport.data_request_id == int(data_request_id)
            )
        ).one_or_none()
        if export is None:
            abort(make_response({"error": "no such data request"}, 404))
        response = jsonify(export.payload)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="data-request-{data_request_id}.json"'
        )
        response.headers["Cache-Control"] = "no-store"
        return response


OPENAPI_PATHS: dict[str, Any] = {
    "/api/admin/data-requests": {
        "get": secured(
            {
                "summary": "Exports prepared for customers/data_request, newest first",
                "operationId": "listDataRequests",
                "responses": {
                    "200": json_response(
                        "The prepared exports",
                        {
                            "type": "object",
                            "required": ["data_requests"],
                            "properties": {
                                "data_requests": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "data_request_id": {"type": "string"},
                                            "customer_id": {"type": "string", "nullable": True},
                                            "prepared_at": {
                                                "type": "string",
                                                "format": "date-time",
                                            },
                                            "download_url": {"type": "string"},
                                        },
                                    },
                                }
                            },
                        },
                    )
                },
            }
        )
    },
    "/api/admin/data-requests/{data_request_id}": {
        "get": secured(
            {
                "summary": "One prepared export, as a JSON download",
                "operationId": "downloadDataRequest",
                "parameters": [
                    {
                        "name": "data_request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": json_response("The export", {"type": "object"}),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        )
    },
}

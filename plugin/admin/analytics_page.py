"""``GET /api/admin/analytics``: the program's figures for a period (see ``analytics``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..auth import admin_caller, installed_shop
from ..ledger import program_of
from ..runtime import kanta
from .analytics import PeriodError, compute_analytics, parse_period
from .openapi import secured
from .query_args import unknown_arguments

bp = Blueprint("admin_analytics_api", __name__)

_FIGURES = {"type": "integer"}
_DECIMAL = {"type": ["string", "null"], "pattern": r"^-?\d+\.\d+$"}
_GROUP = {
    "type": "object",
    "required": ["aov", "orders_per_customer", "repeat_rate", "customers", "orders"],
    "properties": {
        "customers": {"type": "integer"},
        "orders": {"type": "integer"},
        "revenue": {"type": "string"},
        "aov": _DECIMAL,
        "orders_per_customer": _DECIMAL,
        "repeat_rate": _DECIMAL,
    },
}
_DATE_PARAM = {"type": "string", "format": "date", "example": "2026-03-01"}

_PATHS: dict[str, Any] = {
    "/api/admin/analytics": {
        "get": {
            "summary": "The loyalty program's figures for a period",
            "description": "Every figure is computed from stored facts; `definitions` says how.",
            "parameters": [
                {"name": "from", "in": "query", "schema": _DATE_PARAM},
                {"name": "to", "in": "query", "schema": _DATE_PARAM},
            ],
            "responses": {
                "200": {
                    "description": "The figures",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": [
                                    "points_issued",
                                    "points_redeemed",
                                    "points_expired",
                                    "outstanding_points",
                                    "liability",
                                    "redemption_rate",
                                    "members",
                                    "non_members",
                                ],
                                "properties": {
                                    "points_issued": _FIGURES,
                                    "points_redeemed": _FIGURES,
                                    "points_expired": _FIGURES,
                                    "outstanding_points": _FIGURES,
                                    "liability": {
                                        "type": ["object", "null"],
                                        "properties": {
                                            "amount": {"type": "string"},
                                            "currency": {"type": "string"},
                                        },
                                    },
                                    "redemption_rate": _DECIMAL,
                                    "members": _GROUP,
                                    "non_members": _GROUP,
                                },
                            }
                        }
                    },
                },
                "401": {"description": "Missing, invalid or expired session token"},
                "422": {"description": "Dates invalid, reversed or too far apart"},
            },
        }
    }
}
OPERATION_IDS = {"/api/admin/analytics": {"get": "getAnalytics"}}
OPENAPI_PATHS: dict[str, Any] = {
    path: {
        method: secured({"operationId": OPERATION_IDS[path][method], **operation})
        for method, operation in operations.items()
    }
    for path, operations in _PATHS.items()
}


@bp.get("/api/admin/analytics")
def analytics() -> Any:
    caller = admin_caller()
    k = kanta()
    unknown = unknown_arguments(("from", "to"))
    if unknown:
        return jsonify({"error": "invalid period", "errors": unknown}), 422
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), k.now().date())
    except PeriodError as error:
        return jsonify({"error": "invalid period", "errors": error.errors}), 422
    with k.db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        return jsonify(compute_analytics(session, shop, program_of(shop), period))

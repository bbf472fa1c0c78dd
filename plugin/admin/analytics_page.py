"""The Analytics page and ``GET /api/admin/analytics``: the figures of a period (``analytics``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, jsonify, request

from ..auth import admin_caller, installed_shop
from ..ledger import program_of
from ..runtime import kanta
from .analytics import compute_analytics
from .charts import paired_bars, share_bar, weekly_bars
from .embedded import AdminPage, embedded_page, render_page
from .openapi import secured
from .period import PeriodError, parse_period
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


# The shop's plan and country change rarely; re-read them from Shopify once a day at most.
SHOP_FACTS_MAX_AGE = timedelta(days=1)


@bp.get("/analytics")
@embedded_page
def analytics_view(page: AdminPage) -> str:
    k = kanta()
    today = k.now().date()
    raw_from = request.args.get("from") or None
    raw_to = request.args.get("to") or None
    errors: dict[str, str] = {}
    try:
        period = parse_period(raw_from, raw_to, today)
    except PeriodError as error:
        errors, period = error.errors, parse_period(None, None, today)
    with k.db.read() as session:
        shop = installed_shop(session, page.shop_domain)
        synced = shop.shop_facts_synced_at
        shop_id = shop.id
    if synced is None or synced < k.now() - SHOP_FACTS_MAX_AGE:
        # After this page is sent in production; at once (before it) under tests and the CLI.
        k.jobs.enqueue("sync_shop_facts", shop_id=shop_id)
        k.jobs.enqueue("sync_collections", shop_id=shop_id)
    with k.db.read() as session:
        shop = installed_shop(session, page.shop_domain)
        program = program_of(shop)
        figures = compute_analytics(session, shop, program, period)
    return render_page(
        "analytics.html",
        page,
        active="/analytics",
        figures=figures,
        charts=_charts(figures),
        errors=errors,
        raw_from=raw_from or period.first.isoformat(),
        raw_to=raw_to or period.last.isoformat(),
        has_activity=any(
            figures[f"points_{name}"]
            for name in ("issued", "redeemed", "expired", "reversed", "deducted", "imported")
        )
        or figures["members"]["orders"]
        or figures["non_members"]["orders"],
    )


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _charts(figures: dict[str, Any]) -> dict[str, Any]:
    members, others = figures["members"], figures["non_members"]
    return {
        "weekly": weekly_bars(
            figures["weeks"],
            ("issued", "redeemed", "expired"),
            "Points issued, redeemed and expired per week",
        ),
        "members": paired_bars(
            [
                (
                    f"Average order ({figures['currency']})",
                    _decimal(members["aov"]),
                    _decimal(others["aov"]),
                    "{:,.2f}",
                ),
                (
                    "Orders per customer",
                    _decimal(members["orders_per_customer"]),
                    _decimal(others["orders_per_customer"]),
                    "{:,.2f}",
                ),
                (
                    "Repeat-purchase rate",
                    _decimal(members["repeat_rate"]),
                    _decimal(others["repeat_rate"]),
                    "%",
                ),
            ],
            "Members compared with non-members",
        ),
        "tiers": share_bar(
            [
                (tier["name"], tier["members"], TIER_COLOURS[i % len(TIER_COLOURS)])
                for i, tier in enumerate(figures["tiers"])
            ],
            "Members per tier",
        ),
    }


TIER_COLOURS = ("#a0612d", "#8a8a8a", "#c9a227", "#2c6ecb", "#8051ff", "#e51c00")

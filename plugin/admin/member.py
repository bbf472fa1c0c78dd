"""One member: the page ``/members/<customer id>`` and its API, and manual adjustments.

``GET /api/admin/members/<id>`` is everything the page shows: balance, tier progress, consent,
remembered checkout choices and the ledger (each entry with its description in the merchant's
words). ``POST …/adjustments`` adds or removes points with a required reason.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from flask import Blueprint, abort, jsonify, make_response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth import AdminCaller, admin_caller, installed_shop
from ..ledger import LedgerError, adjust_points, program_of
from ..models import Customer, CustomerPreference, LedgerEntry, Shop
from ..runtime import Kanta, kanta
from . import ledger_words
from .embedded import AdminPage, embedded_page, render_page
from .openapi import json_response, secured

bp = Blueprint("admin_member", __name__)

MAX_ENTRIES = 200


def _valid_customer_id(customer_id: str) -> bool:
    return customer_id.isdigit() and 0 < int(customer_id) < 2**63


def _find_member(session: Session, shop: Shop, customer_id: str) -> Customer | None:
    if not _valid_customer_id(customer_id):
        return None
    return session.scalars(
        select(Customer).where(
            Customer.shop_id == shop.id, Customer.shopify_customer_id == int(customer_id)
        )
    ).one_or_none()


def member_view(session: Session, shop: Shop, customer: Customer, limit: int) -> dict[str, Any]:
    """The member as JSON: the API's answer and the page's context."""
    entries = list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.shop_id == shop.id, LedgerEntry.customer_id == customer.id)
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
    )
    units = ledger_words.refunded_units(session, shop.id, entries)
    preferences = session.execute(
        select(CustomerPreference.kind, CustomerPreference.value, CustomerPreference.updated_at)
        .where(
            CustomerPreference.shop_id == shop.id,
            CustomerPreference.customer_id == customer.id,
        )
        .order_by(CustomerPreference.kind)
    ).all()
    program = program_of(shop)
    tier = program.tier_for(customer.tier_points)
    next_tier = program.next_tier(customer.tier_points)
    return {
        "customer_id": str(customer.shopify_customer_id),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "member": customer.is_member,
        "member_since": _iso(customer.member_since),
        "marketing_consent": customer.marketing_consent,
        "points": customer.points_balance,
        "pending_points": customer.pending_points,
        "tier_points": customer.tier_points,
        "tier": {"key": tier.key, "name": tier.name, "multiplier": str(tier.multiplier)},
        "next_tier": (
            {
                "name": next_tier.name,
                "threshold": next_tier.threshold,
                "points_needed": next_tier.threshold - customer.tier_points,
            }
            if next_tier
            else None
        ),
        "tier_window_days": program.tier_window_days,
        "last_order_at": _iso(customer.last_order_at),
        "remembered": {
            kind: {"value": value, "updated_at": _iso(at)} for kind, value, at in preferences
        },
        "entries": [
            {
                "id": str(e.id),
                "kind": e.kind,
                "description": ledger_words.describe(e, units),
                "explanation": ledger_words.explain(e),
                "source": e.source,
                "points": e.points,
                "pending_points": e.pending_points,
                "order_id": str(e.shopify_order_id) if e.shopify_order_id else None,
                "reason": e.reason,
                "details": e.details,
                "created_at": e.created_at.isoformat(),
            }
            for e in entries
        ],
    }


@bp.get("/members/<customer_id>")
@embedded_page
def member_page(page: AdminPage, customer_id: str) -> str:
    with kanta().db.read() as session:
        shop = installed_shop(session, page.shop_domain)
        customer = _find_member(session, shop, customer_id)
        member = (
            member_view(session, shop, customer, MAX_ENTRIES)
            if customer is not None and customer.redacted_at is None
            else None
        )
        currency = shop.currency
    return render_page(
        "member.html",
        page,
        active="/members",
        member=member,
        customer_id=customer_id,
        currency=currency,
        idempotency_key=uuid.uuid4().hex,
    )


@bp.get("/api/admin/members/<customer_id>")
def member(customer_id: str) -> Any:
    caller = admin_caller()
    if not _valid_customer_id(customer_id):
        abort(make_response({"error": "customer id must be a Shopify customer id"}, 404))
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        customer = _find_member(session, shop, customer_id)
        if customer is None:
            abort(make_response({"error": "no such member in this shop"}, 404))
        try:
            limit = min(max(int(request.args.get("limit", MAX_ENTRIES)), 1), MAX_ENTRIES)
        except ValueError:
            limit = MAX_ENTRIES
        return jsonify(member_view(session, shop, customer, limit))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@bp.post("/api/admin/members/<customer_id>/adjustments")
def adjust(customer_id: str) -> Any:
    """A manual adjustment with a required reason, recorded as a ledger entry.

    Body: ``{"points": int (non-zero), "reason": str}``. An ``Idempotency-Key`` header makes a
    resubmitted form count once; without one every request is a new adjustment.
    """
    caller = admin_caller()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": "expected a JSON object", "errors": {}}), 400
    points, reason = body.get("points"), body.get("reason")
    errors: dict[str, str] = {}
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        errors["points"] = "a whole number of points other than 0"
    elif abs(points) > 10_000_000:
        errors["points"] = "at most 10,000,000 either way"
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "a reason is required"
    elif len(reason) > 1000:
        errors["reason"] = "at most 1,000 characters"
    if errors:
        # "fields" is the name the first version of this API used; "errors" is every other one's.
        return jsonify({"error": "invalid adjustment", "errors": errors, "fields": errors}), 422
    key = (request.headers.get("Idempotency-Key") or "").strip()[:100] or uuid.uuid4().hex
    try:
        return _adjust(kanta(), caller, customer_id, cast(int, points), cast(str, reason), key)
    except IntegrityError:
        # The same Idempotency-Key raced in from another request: the client should retry.
        return jsonify({"error": "a concurrent request used this Idempotency-Key; retry"}), 409


def _adjust(
    k: Kanta, caller: AdminCaller, customer_id: str, points: int, reason: str, key: str
) -> Any:
    with k.db.transaction() as session:
        shop = installed_shop(session, caller.shop_domain)
        customer_pk = _customer_pk(session, shop.id, customer_id)
        try:
            entry = adjust_points(
                session,
                shop,
                customer_pk,
                points,
                reason,
                actor=f"staff:{caller.user_id}" if caller.user_id else "staff",
                key=f"{caller.user_id or 'staff'}:{key}",
                now=k.now(),
            )
        except LedgerError as error:
            errors = {"idempotency_key": str(error)}
            return jsonify({"error": str(error), "errors": errors, "fields": errors}), 422
        session.flush()
        customer = session.get(Customer, customer_pk)
        assert customer is not None
        return (
            jsonify(
                {
                    "entry": {
                        "id": str(entry.id),
                        "kind": entry.kind,
                        "points": entry.points,
                        "reason": entry.reason,
                        "actor": entry.actor,
                        "created_at": entry.created_at.isoformat(),
                    },
                    "points": customer.points_balance,
                }
            ),
            201,
        )


def _customer_pk(session: Session, shop_id: int, customer_id: str) -> int:
    if not _valid_customer_id(customer_id):
        abort(make_response({"error": "no such member in this shop"}, 404))
    pk = session.scalar(
        select(Customer.id).where(
            Customer.shop_id == shop_id,
            Customer.shopify_customer_id == int(customer_id),
            Customer.redacted_at.is_(None),
        )
    )
    if pk is None:
        abort(make_response({"error": "no such member in this shop"}, 404))
    return int(pk)


_CUSTOMER_ID_PARAM = {
    "name": "customer_id",
    "in": "path",
    "required": True,
    "schema": {"$ref": "#/components/schemas/CustomerId"},
}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Member": {
        "type": "object",
        "required": ["customer_id", "points", "pending_points", "tier", "entries"],
        "properties": {
            "customer_id": {"type": "string"},
            "email": {"type": "string", "nullable": True},
            "first_name": {"type": "string", "nullable": True},
            "last_name": {"type": "string", "nullable": True},
            "member": {"type": "boolean"},
            "member_since": {"type": "string", "format": "date-time", "nullable": True},
            "marketing_consent": {"type": "boolean", "nullable": True},
            "points": {"type": "integer"},
            "pending_points": {"type": "integer"},
            "tier_points": {"type": "integer"},
            "tier": {
                "type": "object",
                "properties": {
                    "key": {"type": "string"},
                    "name": {"type": "string"},
                    "multiplier": {"type": "string"},
                },
            },
            "next_tier": {"type": "object", "nullable": True},
            "remembered": {
                "type": "object",
                "description": "Remembered checkout choices by kind (payment, delivery).",
                "additionalProperties": {"type": "object"},
            },
            "entries": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "kind", "description", "points", "created_at"],
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"type": "string"},
                        "description": {"type": "string"},
                        "explanation": {"type": "string", "nullable": True},
                        "points": {"type": "integer"},
                        "pending_points": {"type": "integer"},
                        "order_id": {"type": "string", "nullable": True},
                        "reason": {"type": "string", "nullable": True},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/admin/members/{customer_id}": {
        "get": secured(
            {
                "summary": "One member: balance, tier progress, consent, choices, ledger",
                "operationId": "getMember",
                "parameters": [
                    _CUSTOMER_ID_PARAM,
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ENTRIES},
                    },
                ],
                "responses": {
                    "200": json_response("The member", {"$ref": "#/components/schemas/Member"}),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        )
    },
    "/api/admin/members/{customer_id}/adjustments": {
        "post": secured(
            {
                "summary": "Add or remove points by hand, with a reason",
                "operationId": "adjustPoints",
                "parameters": [
                    _CUSTOMER_ID_PARAM,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "The same key counts the adjustment once.",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["points", "reason"],
                                "properties": {
                                    "points": {"type": "integer"},
                                    "reason": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": json_response(
                        "The ledger entry and the new balance",
                        {
                            "type": "object",
                            "required": ["entry", "points"],
                            "properties": {
                                "entry": {"type": "object"},
                                "points": {"type": "integer"},
                            },
                        },
                    ),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": json_response("A concurrent request used this key", {"type": "object"}),
                    "422": {"$ref": "#/components/responses/Invalid"},
                },
            }
        )
    },
}

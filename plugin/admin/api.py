"""JSON APIs behind the embedded admin, under ``/api/admin`` (App Bridge session tokens)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from flask import Blueprint, abort, jsonify, make_response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth import AdminCaller, admin_caller, installed_shop
from ..ledger import LedgerError, adjust_points, program_of
from ..models import Customer, DataExport, LedgerEntry
from ..runtime import Kanta, kanta

bp = Blueprint("admin_api", __name__, url_prefix="/api/admin")

MAX_ENTRIES = 200


@bp.get("/members/<customer_id>")
def member(customer_id: str) -> Any:
    caller = admin_caller()
    if not (customer_id.isascii() and customer_id.isdigit()) or not 0 < int(customer_id) < 2**63:
        abort(make_response({"error": "customer id must be a Shopify customer id"}, 404))
    k = kanta()
    with k.db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        customer = session.scalars(
            select(Customer).where(
                Customer.shop_id == shop.id, Customer.shopify_customer_id == int(customer_id)
            )
        ).one_or_none()
        if customer is None:
            abort(make_response({"error": "no such member in this shop"}, 404))
        try:
            limit = min(max(int(request.args.get("limit", MAX_ENTRIES)), 1), MAX_ENTRIES)
        except ValueError:
            limit = MAX_ENTRIES
        entries = list(
            session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.shop_id == shop.id, LedgerEntry.customer_id == customer.id)
                .order_by(LedgerEntry.id.desc())
                .limit(limit)
            )
        )
        program = program_of(shop)
        tier = program.tier_for(customer.tier_points)
        next_tier = program.next_tier(customer.tier_points)
        return jsonify(
            {
                "customer_id": str(customer.shopify_customer_id),
                "email": customer.email,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "member": customer.is_member,
                "member_since": _iso(customer.member_since),
                "points": customer.points_balance,
                "pending_points": customer.pending_points,
                "tier_points": customer.tier_points,
                "tier": {
                    "key": tier.key,
                    "name": tier.name,
                    "multiplier": str(tier.multiplier),
                },
                "next_tier": (
                    {
                        "name": next_tier.name,
                        "points_needed": next_tier.threshold - customer.tier_points,
                    }
                    if next_tier
                    else None
                ),
                "entries": [
                    {
                        "id": str(e.id),
                        "kind": e.kind,
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
        )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@bp.post("/members/<customer_id>/adjustments")
def adjust(customer_id: str) -> Any:
    """A manual adjustment with a required reason, recorded as a ledger entry.

    Body: ``{"points": int (non-zero), "reason": str}``. An ``Idempotency-Key`` header makes a
    resubmitted form count once; without one every request is a new adjustment.
    """
    caller = admin_caller()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": "expected a JSON object", "fields": {}}), 400
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
        return jsonify({"error": "invalid adjustment", "fields": errors}), 422
    key = (request.headers.get("Idempotency-Key") or "").strip()[:100] or uuid.uuid4().hex
    k = kanta()
    try:
        return _adjust(k, caller, customer_id, cast(int, points), cast(str, reason), key)
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
            return jsonify({"error": str(error), "fields": {"idempotency_key": str(error)}}), 422
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
    if not (customer_id.isascii() and customer_id.isdigit()) or not 0 < int(customer_id) < 2**63:
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


@bp.get("/data-requests")
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


@bp.get("/data-requests/<data_request_id>")
def data_request_download(data_request_id: str) -> Any:
    """One export as a JSON file the merchant sends to the customer."""
    caller = admin_caller()
    if (
        not (data_request_id.isascii() and data_request_id.isdigit())
        or not 0 < int(data_request_id) < 2**63
    ):
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

"""The loyalty program's settings: the page ``/program`` and ``GET``/``PUT /api/admin/program``.

A ``PUT`` carries the settings to change (any left out keep their value) and the rewards to
edit or add. The program it would make is validated in full before anything is written: any
invalid value answers 422 with ``{"errors": {field: message}}`` and changes nothing. An
accepted change is written with its audit row (who — the session token's staff user —, when,
before, after) in one transaction. ``POST /api/admin/program/example`` shows what an order of
a given amount earns at each tier, computed by ``plugin.loyalty``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import admin_caller, installed_shop
from ..ledger import program_of
from ..loyalty.points import award_points
from ..loyalty.program import ProgramError, ProgramSettings
from ..models import ProgramChange, Reward, Shop
from ..runtime import kanta
from .embedded import AdminPage, embedded_page, render_page
from .openapi import json_response, secured
from .rewards import (
    REWARD_KINDS,
    RewardError,
    RewardInput,
    apply_rewards,
    parse_rewards,
    reward_json,
)
from .shops import forget_shop

bp = Blueprint("admin_program", __name__)

AUDIT_SHOWN = 50
EXAMPLE_AMOUNT = Decimal("100.00")


def _rewards(session: Session, shop: Shop) -> list[Reward]:
    return list(
        session.scalars(
            select(Reward).where(Reward.shop_id == shop.id).order_by(Reward.points_cost, Reward.id)
        )
    )


def program_json(session: Session, shop: Shop) -> dict[str, Any]:
    return {
        **program_of(shop).to_dict(),
        "currency": shop.currency,
        "rewards": [reward_json(r) for r in _rewards(session, shop)],
        "updated_at": shop.program_updated_at.isoformat() if shop.program_updated_at else None,
    }


def earnings_example(program: ProgramSettings, amount: Decimal) -> list[dict[str, Any]]:
    """What an order whose eligible amount is ``amount`` earns at each tier (the ledger's own
    arithmetic: ``plugin.loyalty.points.award_points``)."""
    return [
        {
            "tier": tier.name,
            "multiplier": str(tier.multiplier),
            "points": award_points(amount, program.earn_rate, tier.multiplier),
        }
        for tier in program.tiers
    ]


def _changes(session: Session, shop: Shop) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ProgramChange)
        .where(ProgramChange.shop_id == shop.id)
        .order_by(ProgramChange.id.desc())
        .limit(AUDIT_SHOWN)
    )
    return [
        {
            "id": str(c.id),
            "changed_at": c.changed_at.isoformat(),
            "changed_by": c.changed_by,
            "fields": changed_fields(c.before, c.after),
            "before": c.before,
            "after": c.after,
        }
        for c in rows
    ]


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


@bp.get("/api/admin/program")
def get_program() -> Any:
    caller = admin_caller()
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        return jsonify(program_json(session, shop))


@bp.put("/api/admin/program")
def put_program() -> Any:
    caller = admin_caller()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": "expected a JSON object", "errors": {}}), 400
    k = kanta()
    try:
        with k.db.transaction() as session:
            saved = _save(session, caller.shop_domain, caller.user_id, body)
        # This process's next list already filters and names tiers by the saved program.
        forget_shop(k, caller.shop_domain)
        return saved
    except (Refused, RewardError) as error:
        # Raised inside the unit of work, so it rolled back: nothing was written.
        return jsonify({"error": "invalid program", "errors": error.errors}), 422


class Refused(ValueError):
    """Invalid values in a program change; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _save(session: Session, domain: str, user_id: str | None, body: dict[str, Any]) -> Any:
    now = kanta().now()
    shop = installed_shop(session, domain)
    # Lock the shop row: two staff saving at once are audited one after the other, and each
    # change is validated against the program it replaces.
    session.refresh(shop, with_for_update=True)
    current = program_of(shop).to_dict()
    settings_part = {
        k: v for k, v in body.items() if k not in ("rewards", "currency", "updated_at")
    }
    errors = {name: "not a program setting" for name in sorted(set(settings_part) - set(current))}
    program: ProgramSettings | None = None
    rewards: list[RewardInput] = []
    try:
        # A setting left out keeps its value: a partial body never resets the rest.
        program = ProgramSettings.from_dict({**current, **settings_part})
    except ProgramError as error:
        errors.update(error.errors)
    try:
        rewards = parse_rewards(body.get("rewards", []))
    except RewardError as error:
        errors.update(error.errors)
    if errors or program is None:
        raise Refused(errors)
    before = program_json(session, shop)
    apply_rewards(session, shop, rewards, now)
    shop.program = program.to_dict()
    session.flush()
    after = program_json(session, shop)
    before.pop("updated_at"), after.pop("updated_at")
    if before != after:
        shop.program_updated_at = now
        session.add(
            ProgramChange(
                shop_id=shop.id,
                changed_by=user_id or "staff",
                changed_at=now,
                before=before,
                after=after,
            )
        )
        session.flush()
    return jsonify(program_json(session, shop))


@bp.post("/api/admin/program/example")
def example() -> Any:
    """Body ``{"amount": "100.00", "program": {…draft settings…}}``; the draft is optional."""
    caller = admin_caller()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": "expected a JSON object", "errors": {}}), 400
    errors: dict[str, str] = {}
    amount = _amount(body.get("amount", str(EXAMPLE_AMOUNT)))
    if amount is None:
        errors["amount"] = "an amount from 0 to 1,000,000, like 100.00"
    draft = body.get("program")
    program: ProgramSettings | None = None
    if draft is not None:
        if not isinstance(draft, dict):
            errors["program"] = "must be an object of program settings"
        else:
            try:
                program = ProgramSettings.from_dict(
                    {
                        key: value
                        for key, value in draft.items()
                        if key in ProgramSettings().to_dict()
                    }
                )
            except ProgramError as error:
                errors.update(error.errors)
    if errors:
        return jsonify({"error": "invalid example", "errors": errors}), 422
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        program = program or program_of(shop)
        assert amount is not None
        return jsonify(
            {
                "amount": str(amount),
                "currency": shop.currency,
                "tiers": earnings_example(program, amount),
            }
        )


def _amount(raw: Any) -> Decimal | None:
    if isinstance(raw, bool | float) or not isinstance(raw, str | int):
        return None
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError:
        return None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1_000_000):
        return None
    return value.quantize(Decimal("0.01"))


@bp.get("/program")
@embedded_page
def program_page(page: AdminPage) -> str:
    with kanta().db.read() as session:
        shop = installed_shop(session, page.shop_domain)
        program = program_of(shop)
        return render_page(
            "program.html",
            page,
            active="/program",
            program=program,
            data=program_json(session, shop),
            currency=shop.currency,
            example=earnings_example(program, EXAMPLE_AMOUNT),
            example_amount=EXAMPLE_AMOUNT,
            changes=_changes(session, shop),
            reward_kinds=list(REWARD_KINDS.items()),
        )


@bp.get("/api/admin/program/changes")
def program_changes() -> Any:
    caller = admin_caller()
    with kanta().db.read() as session:
        shop = installed_shop(session, caller.shop_domain)
        return jsonify({"changes": _changes(session, shop)})


_TIER = {
    "type": "object",
    "required": ["name", "threshold", "multiplier"],
    "properties": {
        "key": {"type": "string"},
        "name": {"type": "string"},
        "threshold": {"type": "integer"},
        "multiplier": {"type": "string", "description": "decimal, above 0 and at most 10"},
    },
}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Reward": {
        "type": "object",
        "required": ["title", "kind", "points_cost", "value"],
        "properties": {
            "id": {"type": "string", "description": "absent for a new reward"},
            "title": {"type": "string", "maxLength": 255},
            "kind": {
                "type": "string",
                "enum": ["fixed_amount", "percentage", "free_shipping", "store_credit"],
            },
            "points_cost": {"type": "integer", "minimum": 1},
            "value": {"type": "string", "description": "money or percent, decimal"},
            "active": {"type": "boolean"},
        },
    },
    "Program": {
        "type": "object",
        "properties": {
            "earn_rate": {"type": "string", "description": "points per 1.00 of the currency"},
            "include_shipping": {"type": "boolean"},
            "include_tax": {"type": "boolean"},
            "award_on": {"type": "string", "enum": ["paid", "fulfilled"]},
            "amount_refunds_reverse_points": {"type": "boolean"},
            "tiers": {"type": "array", "items": _TIER},
            "tier_window_days": {"type": "integer"},
            "pending_days": {"type": "integer"},
            "expiry_days": {"type": "integer", "nullable": True},
            "welcome_bonus": {"type": "integer"},
            "auto_enroll": {"type": "boolean"},
            "rewards": {"type": "array", "items": {"$ref": "#/components/schemas/Reward"}},
            "currency": {"type": "string", "readOnly": True},
            "updated_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    },
}

_PROGRAM = {"$ref": "#/components/schemas/Program"}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/admin/program": {
        "get": secured(
            {
                "summary": "The loyalty program: earning, tiers, rewards, expiry",
                "operationId": "getProgram",
                "responses": {"200": json_response("The program", _PROGRAM)},
            }
        ),
        "put": secured(
            {
                "summary": "Change the program: the settings given, and the rewards listed",
                "description": (
                    "Settings left out keep their value; rewards not listed are left as they "
                    "are (a reward with an id is edited, one without is added). Any invalid "
                    "value answers 422 and changes nothing."
                ),
                "operationId": "putProgram",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _PROGRAM}},
                },
                "responses": {
                    "200": json_response("The saved program", _PROGRAM),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "422": {"$ref": "#/components/responses/Invalid"},
                },
            }
        ),
    },
    "/api/admin/program/example": {
        "post": secured(
            {
                "summary": "What an order of an amount earns at each tier",
                "operationId": "programExample",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "amount": {"type": "string"},
                                    "program": _PROGRAM,
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": json_response(
                        "Points per tier",
                        {
                            "type": "object",
                            "required": ["amount", "currency", "tiers"],
                            "properties": {
                                "amount": {"type": "string"},
                                "currency": {"type": "string"},
                                "tiers": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    ),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "422": {"$ref": "#/components/responses/Invalid"},
                },
            }
        )
    },
    "/api/admin/program/changes": {
        "get": secured(
            {
                "summary": "The latest changes to the program: who, when, before, after",
                "operationId": "programChanges",
                "responses": {
                    "200": json_response(
                        "Newest first",
                        {
                            "type": "object",
                            "required": ["changes"],
                            "properties": {
                                "changes": {"type": "array", "items": {"type": "object"}}
                            },
                        },
                    )
                },
            }
        )
    },
}

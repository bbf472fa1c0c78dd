"""The express lane: the first delivery of a paid order, in three prepared statements.

Most deliveries that move points are an ``orders/paid`` for an order the ledger has not seen, of
a customer whose history holds nothing processed after it. For those, ``record_new_paid_order``
writes exactly what ``orders.record_order`` writes — the receipt, the order, its ``paid`` event
(applied), the award and the welcome bonus of auto-enrolment, the customer's identity and
projections, the order's lines — with hand-written SQL on the driver's cursor, no ORM:

1. (PostgreSQL: one statement) the shop; the receipt inserted (nothing more for a redelivery);
   the order inserted (nothing more if it exists); the customer inserted or locked (lock order:
   the order, then the customer, as every writer);
2. after the lock, on a fresh snapshot (PostgreSQL: a second statement in the same round trip):
   the customer's row, whether anything of theirs is processed later (a late delivery re-tiers
   those: the general path's job), and whether a welcome bonus was ever paid;
3. (PostgreSQL: one statement, sent with the COMMIT) every write.

The rules are the ledger's own: ``awards.plan_award`` computes the award, ``move_projections``
the customer's projections, ``OrderSnapshot.with_contents`` the settlement of the paying payload.
Whenever the delivery is anything else — the order exists, the program awards on fulfilment, a
guest or test order, an erased customer, a non-member where members must join, later history —
it raises ``NotExpress`` before anything is committed: the caller rolls back and runs the general
path, which does the same from the start. ``tests/test_express.py`` holds the two paths to the
same rows, column by column, on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Dialect

from ..loyalty.orders import CENT, OrderFacts
from ..loyalty.points import cumulative_reversal
from ..loyalty.program import ProgramSettings
from ..loyalty.settlement import OrderSnapshot
from ..models import LedgerEntry, Order, WebhookReceipt
from ..purchases import line_rows
from .awards import award_snapshot, plan_award
from .entries import Change, move_projections
from .express_sql import Write, for_dialect
from .facts import facts_from_json, facts_json
from .orders import remembered_fields


class NotExpress(Exception):  # noqa: N818 - a signal, not an error
    """This delivery needs the general path (nothing it did may be kept: roll back)."""


@dataclass(frozen=True)
class Receipt:
    webhook_id: str
    topic: str
    event_id: str | None
    api_version: str | None
    triggered_at: datetime | None


@dataclass
class Done:
    """What the caller answers: ``duplicate``, ``no shop``, or awarded to ``customer_pk``."""

    outcome: str
    shop_id: int | None = None
    customer_pk: int | None = None


@dataclass
class _Customer:
    """The locked customer row's projections, moved by ``move_projections`` like the ORM row."""

    points_balance: int
    pending_points: int
    tier_points: int
    tier_key: str | None
    tier_counted_since: datetime | None
    last_activity_at: datetime | None
    updated_at: datetime


def record_new_paid_order(
    cursor: Any,
    dialect: Dialect,
    domain: str,
    receipt: Receipt,
    facts: OrderFacts,
    payload: Mapping[str, Any],
    now: datetime,
) -> Done:
    """The whole ``orders/paid`` delivery, on ``cursor`` inside the caller's transaction."""
    kept = facts_json(facts)
    paying = facts_from_json(facts.order_id, kept)  # what the general path awards from
    who = paying.customer
    if who is None or paying.is_test:
        raise NotExpress("guest or test order")
    sql = for_dialect(dialect)
    bind = sql.values.bind
    processed_at = paying.processed_at or now
    first = sql.first(
        cursor,
        {
            "domain": domain,
            "webhook_id": receipt.webhook_id,
            "topic": receipt.topic,
            "event_id": receipt.event_id,
            "api_version": receipt.api_version,
            "triggered_at": bind(WebhookReceipt, "triggered_at", receipt.triggered_at),
            "now": bind(Order, "created_at", now),
            "order_id": facts.order_id,
            "customer_id": who.shopify_id,
            "processed_at": bind(Order, "processed_at", processed_at),
            "moment": bind(LedgerEntry, "processed_at", processed_at),
        },
    )
    if first is None:
        return Done("no shop")
    if not first.receipt:
        return Done("duplicate")
    if first.order_pk is None:
        raise NotExpress("the order is known")
    program = _program(first.program)
    if program.award_on != "paid":
        raise NotExpress("the program awards on fulfilment")
    c = first.customer
    if c is None:  # upserted with the new order, so found after the lock but for a race
        raise NotExpress("the customer was not found after its lock")
    if c["suppressed"] or c["redacted_at"] is not None:
        raise NotExpress("an erased customer")
    enrol = not c["is_member"]
    if enrol and not program.auto_enroll:
        raise NotExpress("not a member")
    if first.later:
        raise NotExpress("history processed after this order")
    welcome_paid = first.welcome_paid

    # The rules, as award_order and settle_order apply them.
    projections = _Customer(
        c["points_balance"],
        c["pending_points"],
        c["tier_points"],
        c["tier_key"],
        c["tier_counted_since"],
        c["last_activity_at"],
        now,
    )
    changes: list[Change] = []
    if enrol and program.welcome_bonus > 0 and not welcome_paid:
        changes.append(
            Change(
                kind="welcome_bonus",
                source="welcome",
                key=f"welcome:{c['id']}",
                points=program.welcome_bonus,
            )
        )
    tier = program.tier_for(projections.tier_points)
    award_taken = award_snapshot(program, paying)
    fields, award = plan_award(program, paying, tier, first.currency, now, award_taken)
    changes.append(award)
    snapshot = _settled(program, award_taken, fields["awarded_points"], paying)
    if snapshot is None:
        raise NotExpress("the paying payload itself changes the award")
    for change in changes:
        move_projections(program, projections, change, now)

    order = {
        "name": None,
        "source_name": None,
        "currency": None,
        "total_price": None,
        "payment_gateway": None,
        "payment_method_name": None,
        "delivery_title": None,
        "delivery_code": None,
        "delivery_kind": None,
        **remembered_fields(facts),
        **fields,
        "facts": snapshot,
        "refunded_eligible": Decimal(0).quantize(CENT),
        "paid_at": now,
        "customer_id": c["id"],
        "updated_at": now,
    }
    last_order_at = max(c["last_order_at"] or now, now)
    lines = line_rows(first.shop_id, facts.order_id, payload)
    written = sql.write(
        cursor,
        Write(
            shop_id=first.shop_id,
            order_pk=first.order_pk,
            order=order,
            event={
                "shop_id": first.shop_id,
                "shopify_order_id": facts.order_id,
                "kind": "paid",
                "source_id": facts.order_id,
                "facts": kept,
                "received_at": now,
                "applied_at": now,
            },
            entries=[_entry_row(first.shop_id, c["id"], change, now) for change in changes],
            customer={
                "id": c["id"],
                "email": who.email,
                "first_name": who.first_name,
                "last_name": who.last_name,
                "is_member": True,
                "member_since": now if enrol else c["member_since"],
                "points_balance": projections.points_balance,
                "pending_points": projections.pending_points,
                "tier_points": projections.tier_points,
                "tier_key": projections.tier_key,
                "last_activity_at": projections.last_activity_at,
                "last_order_at": last_order_at,
                "sync_requested_at": now,  # the outbox (plugin/jobs/preferences.py)
                "updated_at": now,
            },
            lines=lines,
        ),
    )
    if not written:  # the paid event was already kept: the general path settles it
        raise NotExpress("the paid event is known")
    return Done("ok", first.shop_id, c["id"])


def _settled(
    program: ProgramSettings, before: OrderSnapshot, awarded: int, paying: OrderFacts
) -> dict[str, Any] | None:
    """The award's snapshot (``before``, as ``plan_award`` kept it) after settling the paying
    event itself (``edits.apply_contents``): None when that would move points (it never does
    for a payload paid as it stands)."""
    after, added = before.with_contents(paying)
    if added:
        return None
    reverse = program.amount_refunds_reverse_points
    reversed_before = before.reversed_eligible(amount_refunds_reverse=reverse)
    reversed_after = after.reversed_eligible(amount_refunds_reverse=reverse)
    if reversed_before or reversed_after:
        return None
    if cumulative_reversal(awarded, after.eligible, reversed_after):
        return None
    return after.to_json()


def _entry_row(shop_id: int, customer_pk: int, change: Change, now: datetime) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "customer_id": customer_pk,
        "kind": change.kind,
        "source": change.source,
        "idempotency_key": change.key,
        "points": change.points,
        "pending_points": change.pending,
        "tier_points": change.tier,
        "tier_counted_at": change.tier_counted_at,
        "processed_at": change.processed_at,
        "shopify_order_id": change.shopify_order_id,
        "source_ref": change.source_ref,
        "details": change.details or {},
        "reason": change.reason,
        "actor": change.actor,
        "created_at": now,
    }


_PROGRAMS: dict[str, ProgramSettings] = {}


def _program(raw: Any) -> ProgramSettings:
    """The shop's program, parsed once per distinct stored text (it changes rarely)."""
    text = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True)
    program = _PROGRAMS.get(text)
    if program is None:
        if len(_PROGRAMS) > 256:
            _PROGRAMS.clear()
        program = ProgramSettings.from_dict(json.loads(text) if text else {})
        _PROGRAMS[text] = program
    return program

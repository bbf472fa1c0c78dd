"""One member's history, event by event: the welcome bonus, then orders (awarded pending, released
14 days later), refunds reversing part of a released order and merchants' adjustments, at random
moments after joining. Each event appends its ledger entries (and order) and keeps the member's
projections, so they equal the sums of the entries.

The random draws happen in a fixed order (the member's, then each event's as it comes): the same
seed gives the same rows."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from plugin.loyalty.program import ProgramSettings, Tier

from .config import PENDING_DAYS, SHOPIFY_ORDER_BASE, SHOPIFY_REFUND_BASE
from .rows import REFUNDED_ELIGIBLE, REVERSED_POINTS, Encoder, Row
from .vocabulary import DELIVERIES, PAYMENTS, weighted

CENT = Decimal("0.01")
ADJUSTMENT_POINTS = (25, 50, 100, 250)
ADJUSTMENT_REASONS = ("Late delivery", "Birthday", "Survey answered", "Goodwill")
# Each event rolls a number in [0, 1): below the first a refund (if a released order is left to
# refund), below the second an adjustment, else an order.
REFUND_BELOW = 0.05
ADJUSTMENT_BELOW = 0.07
# How often an order is paid, and delivered, as the member usually does; how often a pickup is
# bought at the shop's till (a POS order).
USUAL_CHOICE_SHARE = 0.7
POS_PICKUP_SHARE = 0.3

# An order released and not yet refunded: (order id, name, points awarded, awarded at,
# multiplier, eligible amount).
Released = tuple[int, str, int, datetime, str, Decimal]


@dataclass(frozen=True, slots=True)
class Member:
    """Who the member is, fixed for their whole history."""

    shop_id: int
    customer_id: int
    program: ProgramSettings
    encode: Encoder
    now: datetime
    first: str
    last: str
    email: str
    joined: datetime
    usual_payment: tuple[Any, ...]
    usual_delivery: tuple[Any, ...]
    # Awards from then on count towards the tier; orders from then on are still pending.
    tier_since: datetime
    pending_cutoff: datetime


@dataclass(slots=True)
class History:
    """What has happened so far, and the projections it adds up to."""

    left: int  # ledger entries still to make
    last_activity: datetime
    entries: list[tuple[datetime, Row]] = field(default_factory=list)
    orders: dict[int, list[Any]] = field(default_factory=dict)
    released: list[Released] = field(default_factory=list)
    balance: int = 0
    pending: int = 0
    tier_points: int = 0  # within the tier window
    lifetime_tier: int = 0  # ever: the tier an award's multiplier comes from
    last_order: datetime | None = None
    # Numbers the member's orders, refunds and adjustments (their Shopify ids and keys).
    order_number: int = 0


def live(rng: random.Random, member: Member, entry_count: int) -> History:
    """The member's ``entry_count`` ledger entries, the welcome bonus first, and their orders."""
    history = History(left=entry_count, last_activity=member.joined)
    welcome(member, history)
    span = max(1.0, (member.now - member.joined).total_seconds())
    # Event moments in order, so each award's multiplier is the tier reached by then.
    moments = sorted((rng.random() for _ in range(history.left)), reverse=True)
    while history.left > 0:
        fraction = moments.pop() if moments else rng.random()
        at = member.joined + timedelta(seconds=fraction * span)
        roll = rng.random()
        if roll < REFUND_BELOW and history.released:
            refund(rng, member, history, at)
        elif roll < ADJUSTMENT_BELOW or (history.left == 1 and at < member.pending_cutoff):
            # The last entry cannot be an order released by now (that takes two entries).
            adjustment(rng, member, history, at)
        else:
            order(rng, member, history, at)
    return history


def welcome(member: Member, history: History) -> None:
    """The welcome bonus, on joining."""
    bonus = member.program.welcome_bonus
    history.entries.append(
        (
            member.joined,
            (
                member.shop_id,
                member.customer_id,
                "welcome_bonus",
                "welcome",
                f"welcome:{member.customer_id}",
                bonus,
                0,
                0,
                None,
                None,
                None,
                "{}",
                None,
                None,
                member.encode.moment(member.joined),
            ),
        )
    )
    history.balance += bonus
    history.left -= 1


def refund(rng: random.Random, member: Member, history: History, at: datetime) -> None:
    """A refund of part of an earlier, released order: none if the balance is spent or it would
    come after now (either way, that order is not refunded later)."""
    m = member.encode.moment
    order_id, name, awarded, awarded_at, multiplier, eligible = history.released.pop(
        rng.randrange(len(history.released))
    )
    reverse = min(max(1, awarded // rng.choice((1, 2, 3, 4))), history.balance)
    refunded = (eligible * reverse / awarded).quantize(CENT) if awarded else CENT
    if reverse == 0:
        return
    refund_id = SHOPIFY_REFUND_BASE + member.customer_id * 10_000 + history.order_number
    history.order_number += 1
    at = max(at, awarded_at + timedelta(days=PENDING_DAYS, hours=1))
    if at > member.now:
        return
    details = json.dumps(
        {
            "refunded_eligible": str(refunded),
            "order_name": name,
            "awarded_points": awarded,
            "reversed_total": reverse,
            "earn_rate": "1",
            "multiplier": multiplier,
        }
    )
    history.entries.append(
        (
            at,
            (
                member.shop_id,
                member.customer_id,
                "refund_reversal",
                "refund",
                f"refund:{refund_id}",
                -reverse,
                0,
                -reverse,
                m(awarded_at),
                order_id,
                str(refund_id),
                details,
                None,
                None,
                m(at),
            ),
        )
    )
    history.balance -= reverse
    history.orders[order_id][REVERSED_POINTS] = reverse
    history.orders[order_id][REFUNDED_ELIGIBLE] = str(refunded)
    if awarded_at >= member.tier_since:
        history.tier_points -= reverse
    history.lifetime_tier -= reverse
    history.left -= 1


def adjustment(rng: random.Random, member: Member, history: History, at: datetime) -> None:
    """A merchant's goodwill adjustment."""
    points = rng.choice(ADJUSTMENT_POINTS)
    history.entries.append(
        (
            at,
            (
                member.shop_id,
                member.customer_id,
                "adjustment",
                "adjustment",
                f"adjust:bench-{member.customer_id}-{history.order_number}",
                points,
                0,
                0,
                None,
                None,
                None,
                "{}",
                rng.choice(ADJUSTMENT_REASONS),
                "staff@bench.example",
                member.encode.moment(at),
            ),
        )
    )
    history.order_number += 1
    history.balance += points
    history.last_activity = max(history.last_activity, at)
    history.left -= 1


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to make, one per order
class Sale:
    """An order as checkout took it, and the points it earns at the member's tier then."""

    order_id: int
    name: str
    at: datetime
    available_at: datetime
    pending_now: bool
    tier: Tier
    multiplier: str  # the tier's, as the award's details and a refund's show it
    eligible: Decimal
    total: Decimal
    points: int
    gateway: str
    method: str
    title: str
    code: str
    kind: str
    channel: str
    # ``at`` and ``available_at`` as stored: formatted once each, used by the order and entries.
    at_text: str | None
    available_text: str | None


def order(rng: random.Random, member: Member, history: History, at: datetime) -> None:
    """An order, awarded pending, released 14 days later (if that day has come)."""
    sale = checkout(rng, member, history, at)
    history.orders[sale.order_id] = order_row(member, sale)
    history.entries.append((at, award_entry(member, sale)))
    history.left -= 1
    if at >= member.tier_since:
        history.tier_points += sale.points
    history.lifetime_tier += sale.points
    history.last_activity = max(history.last_activity, at)
    history.last_order = max(history.last_order or at, at)
    if sale.pending_now:
        history.pending += sale.points
        return
    history.entries.append((sale.available_at, release_entry(member, sale)))
    history.left -= 1
    history.balance += sale.points
    history.last_activity = max(history.last_activity, sale.available_at)
    history.released.append(
        (sale.order_id, sale.name, sale.points, at, sale.multiplier, sale.eligible)
    )


def checkout(rng: random.Random, member: Member, history: History, at: datetime) -> Sale:
    """The next order: its amount, payment, delivery and channel, and the points it earns."""
    program = member.program
    tier = program.tier_for(history.lifetime_tier)
    eligible = (Decimal(int(rng.lognormvariate(3.9, 0.6) * 100) + 500) / 100).quantize(CENT)
    order_id = SHOPIFY_ORDER_BASE + member.customer_id * 10_000 + history.order_number
    history.order_number += 1
    usual = rng.random() < USUAL_CHOICE_SHARE
    gateway, method, _ = member.usual_payment if usual else weighted(rng, PAYMENTS)
    usual = rng.random() < USUAL_CHOICE_SHARE
    title, code, kind, _ = member.usual_delivery if usual else weighted(rng, DELIVERIES)
    channel = "pos" if kind == "pickup" and rng.random() < POS_PICKUP_SHARE else "web"
    shipping = Decimal("0.00") if kind == "pickup" else Decimal("4.90")
    available_at = at + timedelta(days=PENDING_DAYS)
    return Sale(
        order_id=order_id,
        name=f"#{order_id - SHOPIFY_ORDER_BASE}",
        at=at,
        available_at=available_at,
        pending_now=at >= member.pending_cutoff,
        tier=tier,
        multiplier=str(tier.multiplier),
        eligible=eligible,
        total=(eligible * Decimal("1.08") + shipping).quantize(Decimal("0.01")),
        points=int(eligible * program.earn_rate * tier.multiplier),
        gateway=gateway,
        method=method,
        title=title,
        code=code,
        kind=kind,
        channel=channel,
        at_text=member.encode.moment(at),
        available_text=member.encode.moment(available_at),
    )


def order_row(member: Member, sale: Sale) -> list[Any]:
    """The order's row (a list: a refund later sets what it reversed)."""
    pos = sale.channel == "pos"
    # The JSON, of plain values, written directly.
    facts = (
        f'{{"lines": {{"{sale.order_id * 10 + 1}": [1, "{sale.eligible}"]}}, "shipping": "0", '
        '"refunded": {}, "refunded_shipping": "0"}'
    )
    return [
        member.shop_id,
        sale.order_id,
        member.customer_id,
        sale.name,
        "pos" if pos else "web",
        member.encode.flag(False),
        "USD",
        str(sale.total),
        sale.gateway,
        sale.method,
        None if pos else sale.title,
        None if pos else sale.code,
        "pos" if pos else sale.kind,
        facts,
        str(sale.eligible),
        sale.at_text,
        "awarded",
        sale.at_text,
        "1.000000",
        f"{sale.tier.multiplier:.6f}",
        sale.points,
        0,
        "0.00",
        sale.points if sale.pending_now else 0,
        sale.available_text,
        sale.at_text,
        sale.at_text if sale.pending_now else sale.available_text,
    ]


def award_entry(member: Member, sale: Sale) -> Row:
    """The order's award: pending points, counted towards the tier at once."""
    details = (
        f'{{"order_name": "{sale.name}", "eligible_amount": "{sale.eligible}", '
        f'"currency": "USD", "earn_rate": "1", "tier": "{sale.tier.key}", '
        f'"multiplier": "{sale.multiplier}", "pending_days": {PENDING_DAYS}, '
        f'"channel": "{sale.channel}"}}'
    )
    return (
        member.shop_id,
        member.customer_id,
        "order_award",
        "order",
        f"order:{sale.order_id}:award",
        0,
        sale.points,
        sale.points,
        sale.at_text,
        sale.order_id,
        None,
        details,
        None,
        None,
        sale.at_text,
    )


def release_entry(member: Member, sale: Sale) -> Row:
    """The award's release, 14 days on: pending points become spendable."""
    return (
        member.shop_id,
        member.customer_id,
        "pending_release",
        "order",
        f"order:{sale.order_id}:release",
        sale.points,
        -sale.points,
        0,
        None,
        sale.order_id,
        None,
        f'{{"order_name": "{sale.name}"}}',
        None,
        None,
        sale.available_text,
    )

"""The generated members: each one's customer row, orders and ledger entries."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from plugin.loyalty.program import ProgramSettings

from .config import (
    HISTORY_DAYS,
    MAX_ENTRIES_PER_MEMBER,
    PENDING_DAYS,
    SHOPIFY_CUSTOMER_BASE,
    SHOPIFY_ORDER_BASE,
    SHOPIFY_REFUND_BASE,
)
from .plan import ShopPlan
from .rows import REFUNDED_ELIGIBLE, REVERSED_POINTS, Encoder, MemberRows, Row
from .vocabulary import DELIVERIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, PAYMENTS

CENT = Decimal("0.01")


def _weighted(rng: random.Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(options, weights=[o[-1] for o in options])[0]


def entry_counts(rng: random.Random, members: int, entries: int) -> list[int]:
    """``members`` counts of at least 1 summing to ``entries``, heavy-tailed like real activity."""
    weights = [min(rng.paretovariate(1.3), 400.0) for _ in range(members)]
    spare = entries - members
    total = sum(weights)
    counts = [1 + int(spare * w / total) for w in weights]
    # Rounding down left fewer than one entry per member: hand them out one each.
    for index in rng.sample(range(members), entries - sum(counts)):
        counts[index] += 1
    for index, count in enumerate(counts):
        if count > MAX_ENTRIES_PER_MEMBER:
            counts[index] = MAX_ENTRIES_PER_MEMBER
            counts[rng.randrange(members)] += count - MAX_ENTRIES_PER_MEMBER
    return counts


def build_member(
    rng: random.Random,
    encode: Encoder,
    shop_id: int,
    program: ProgramSettings,
    customer_id: int,
    entry_count: int,
    now: datetime,
    rows: MemberRows,
) -> None:
    """One member's customer row, orders and ledger entries, appended to ``rows``."""
    m = encode.moment
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower()}{customer_id}@{rng.choice(EMAIL_DOMAINS)}"
    joined = now - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))
    usual_payment = _weighted(rng, PAYMENTS)
    usual_delivery = _weighted(rng, DELIVERIES)
    tier_since = now - timedelta(days=program.tier_window_days)
    pending_cutoff = now - timedelta(days=PENDING_DAYS)

    # The welcome bonus, then events at random moments after joining.
    entries: list[tuple[datetime, Row]] = []
    balance = pending = tier_points = 0
    lifetime_tier = 0
    last_activity = joined
    last_order: datetime | None = None
    entries.append(
        (
            joined,
            (
                shop_id,
                customer_id,
                "welcome_bonus",
                "welcome",
                f"welcome:{customer_id}",
                program.welcome_bonus,
                0,
                0,
                None,
                None,
                None,
                "{}",
                None,
                None,
                m(joined),
            ),
        )
    )
    balance += program.welcome_bonus
    span = max(1.0, (now - joined).total_seconds())
    left = entry_count - 1
    # Event moments in order, so each award's multiplier is the tier reached by then.
    moments = sorted((rng.random() for _ in range(left)), reverse=True)
    order_number = 0
    released: list[tuple[int, str, int, datetime, str, Decimal]] = []
    orders: dict[int, list[Any]] = {}
    while left > 0:
        at = joined + timedelta(seconds=(moments.pop() if moments else rng.random()) * span)
        roll = rng.random()
        if roll < 0.05 and released:
            # A refund of part of an earlier, released order.
            order_id, name, awarded, awarded_at, multiplier, eligible = released.pop(
                rng.randrange(len(released))
            )
            reverse = min(max(1, awarded // rng.choice((1, 2, 3, 4))), balance)
            refunded = (eligible * reverse / awarded).quantize(CENT) if awarded else CENT
            if reverse == 0:
                continue
            refund_id = SHOPIFY_REFUND_BASE + customer_id * 10_000 + order_number
            order_number += 1
            at = max(at, awarded_at + timedelta(days=PENDING_DAYS, hours=1))
            if at > now:
                continue
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
            entries.append(
                (
                    at,
                    (
                        shop_id,
                        customer_id,
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
            balance -= reverse
            orders[order_id][REVERSED_POINTS] = reverse
            orders[order_id][REFUNDED_ELIGIBLE] = str(refunded)
            if awarded_at >= tier_since:
                tier_points -= reverse
            lifetime_tier -= reverse
            left -= 1
            continue
        if roll < 0.07 or (left == 1 and at < pending_cutoff):
            # A merchant's goodwill adjustment.
            points = rng.choice((25, 50, 100, 250))
            entries.append(
                (
                    at,
                    (
                        shop_id,
                        customer_id,
                        "adjustment",
                        "adjustment",
                        f"adjust:bench-{customer_id}-{order_number}",
                        points,
                        0,
                        0,
                        None,
                        None,
                        None,
                        "{}",
                        rng.choice(("Late delivery", "Birthday", "Survey answered", "Goodwill")),
                        "staff@bench.example",
                        m(at),
                    ),
                )
            )
            order_number += 1
            balance += points
            last_activity = max(last_activity, at)
            left -= 1
            continue
        # An order, awarded pending, released 14 days later (if that day has come).
        pending_now = at >= pending_cutoff
        tier = program.tier_for(lifetime_tier)
        eligible = (Decimal(int(rng.lognormvariate(3.9, 0.6) * 100) + 500) / 100).quantize(CENT)
        points = int(eligible * program.earn_rate * tier.multiplier)
        order_id = SHOPIFY_ORDER_BASE + customer_id * 10_000 + order_number
        order_number += 1
        name = f"#{order_id - SHOPIFY_ORDER_BASE}"
        gateway, method, _ = usual_payment if rng.random() < 0.7 else _weighted(rng, PAYMENTS)
        title, code, kind, _ = usual_delivery if rng.random() < 0.7 else _weighted(rng, DELIVERIES)
        channel = "pos" if kind == "pickup" and rng.random() < 0.3 else "web"
        shipping = Decimal("0.00") if kind == "pickup" else Decimal("4.90")
        total = (eligible * Decimal("1.08") + shipping).quantize(Decimal("0.01"))
        available_at = at + timedelta(days=PENDING_DAYS)
        multiplier = str(tier.multiplier)
        # Moments are formatted once each; the JSON, of plain values, written directly.
        at_text, available_text = m(at), m(available_at)
        facts = (
            f'{{"lines": {{"{order_id * 10 + 1}": [1, "{eligible}"]}}, "shipping": "0", '
            '"refunded": {}, "refunded_shipping": "0"}'
        )
        orders[order_id] = [
            shop_id,
            order_id,
            customer_id,
            name,
            "pos" if channel == "pos" else "web",
            encode.flag(False),
            "USD",
            str(total),
            gateway,
            method,
            None if channel == "pos" else title,
            None if channel == "pos" else code,
            "pos" if channel == "pos" else kind,
            facts,
            str(eligible),
            at_text,
            "awarded",
            at_text,
            "1.000000",
            f"{tier.multiplier:.6f}",
            points,
            0,
            "0.00",
            points if pending_now else 0,
            available_text,
            at_text,
            at_text if pending_now else available_text,
        ]
        details = (
            f'{{"order_name": "{name}", "eligible_amount": "{eligible}", "currency": "USD", '
            f'"earn_rate": "1", "tier": "{tier.key}", "multiplier": "{multiplier}", '
            f'"pending_days": {PENDING_DAYS}, "channel": "{channel}"}}'
        )
        entries.append(
            (
                at,
                (
                    shop_id,
                    customer_id,
                    "order_award",
                    "order",
                    f"order:{order_id}:award",
                    0,
                    points,
                    points,
                    at_text,
                    order_id,
                    None,
                    details,
                    None,
                    None,
                    at_text,
                ),
            )
        )
        left -= 1
        if at >= tier_since:
            tier_points += points
        lifetime_tier += points
        last_activity = max(last_activity, at)
        last_order = max(last_order or at, at)
        if pending_now:
            pending += points
            continue
        entries.append(
            (
                available_at,
                (
                    shop_id,
                    customer_id,
                    "pending_release",
                    "order",
                    f"order:{order_id}:release",
                    points,
                    -points,
                    0,
                    None,
                    order_id,
                    None,
                    f'{{"order_name": "{name}"}}',
                    None,
                    None,
                    available_text,
                ),
            )
        )
        left -= 1
        balance += points
        last_activity = max(last_activity, available_at)
        released.append((order_id, name, points, at, multiplier, eligible))

    rows.orders.extend(tuple(order) for order in orders.values())
    entries.sort(key=lambda item: item[0])
    rows.entries.extend(row for _, row in entries)
    consent = rng.choices((True, False, None), weights=(60, 25, 15))[0]
    rows.customers.append(
        (
            customer_id,
            shop_id,
            SHOPIFY_CUSTOMER_BASE + customer_id,
            email,
            first,
            last,
            encode.flag(True),
            m(joined),
            encode.flag(consent),
            None if consent is None else m(joined),
            balance,
            pending,
            tier_points,
            program.tier_for(tier_points).key,
            m(tier_since),
            m(last_activity),
            m(last_order),
            m(joined),
            m(max(last_activity, joined)),
        )
    )


def build_chunk(
    plan: ShopPlan,
    chunk: int,
    shop_id: int,
    program: ProgramSettings,
    now: datetime,
    encode: Encoder,
    seed: int,
) -> MemberRows:
    rng = random.Random(f"{seed}:{plan.number}:{chunk}")
    start, stop = plan.chunk_range(chunk)
    counts = entry_counts(rng, stop - start, plan.entries_for(start, stop))
    rows = MemberRows()
    for offset, count in enumerate(counts):
        customer_id = plan.first_customer_id + start + offset
        build_member(rng, encode, shop_id, program, customer_id, count, now, rows)
    return rows

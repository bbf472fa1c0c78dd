"""The generated members: who each is, their rows, and a chunk of them at a time."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from plugin.loyalty.program import ProgramSettings

from .config import HISTORY_DAYS, MAX_ENTRIES_PER_MEMBER, PENDING_DAYS, SHOPIFY_CUSTOMER_BASE
from .history import History, Member, live
from .plan import ShopPlan
from .rows import Encoder, MemberRows, Row
from .vocabulary import DELIVERIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, PAYMENTS, weighted


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
    member = new_member(rng, encode, shop_id, program, customer_id, now)
    history = live(rng, member, entry_count)
    rows.orders.extend(tuple(order) for order in history.orders.values())
    history.entries.sort(key=lambda item: item[0])
    rows.entries.extend(row for _, row in history.entries)
    rows.customers.append(customer_row(rng, member, history))


def new_member(
    rng: random.Random,
    encode: Encoder,
    shop_id: int,
    program: ProgramSettings,
    customer_id: int,
    now: datetime,
) -> Member:
    """Who joins: a name and email, when (within the history), and the payment and delivery
    they usually pick."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower()}{customer_id}@{rng.choice(EMAIL_DOMAINS)}"
    joined = now - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))
    usual_payment = weighted(rng, PAYMENTS)
    usual_delivery = weighted(rng, DELIVERIES)
    return Member(
        shop_id=shop_id,
        customer_id=customer_id,
        program=program,
        encode=encode,
        now=now,
        first=first,
        last=last,
        email=email,
        joined=joined,
        usual_payment=usual_payment,
        usual_delivery=usual_delivery,
        tier_since=now - timedelta(days=program.tier_window_days),
        pending_cutoff=now - timedelta(days=PENDING_DAYS),
    )


def customer_row(rng: random.Random, member: Member, history: History) -> Row:
    """The member's customer row: their marketing consent (drawn last) and the projections
    their history adds up to."""
    m, flag = member.encode.moment, member.encode.flag
    consent = rng.choices((True, False, None), weights=(60, 25, 15))[0]
    return (
        member.customer_id,
        member.shop_id,
        SHOPIFY_CUSTOMER_BASE + member.customer_id,
        member.email,
        member.first,
        member.last,
        flag(True),
        m(member.joined),
        flag(consent),
        None if consent is None else m(member.joined),
        history.balance,
        history.pending,
        history.tier_points,
        member.program.tier_for(history.tier_points).key,
        m(member.tier_since),
        m(history.last_activity),
        m(history.last_order),
        m(member.joined),
        m(max(history.last_activity, member.joined)),
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

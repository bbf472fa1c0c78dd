"""When an awarded order's tier points moved: its award and each later step, at its own moment.

The ledger counts an order's entries toward the tiers of the orders processed after each of
them: the award at the order's ``processed_at``, a refund's reversal at the refund's, an edit,
an added line or a cancellation when it was applied. When the order's multiplier changes (a late
delivery changed the tier it was processed at), the difference must land at those same moments,
not all at the award's: an order refunded in full nets to zero either way, yet between its award
and its refund it counted for more (or less) toward the orders processed in between.

``moves_by_moment`` replays the order's steps, in the order they were applied, with the same
rules as the ledger (``settlement``, ``points``) and a given multiplier, and says how many tier
points moved at each moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from .edits import OrderEditFacts
from .orders import OrderFacts
from .points import award_points, cumulative_reversal
from .refunds import RefundFacts
from .settlement import OrderSnapshot


@dataclass(frozen=True)
class Step:
    """One applied event of an awarded order: exactly one of its facts, or ``cancelled``."""

    applied_at: datetime
    refund: RefundFacts | None = None
    edit: OrderEditFacts | None = None
    contents: OrderFacts | None = None
    cancelled: bool = False


def moves_by_moment(
    award: OrderSnapshot,
    processed_at: datetime,
    steps: Sequence[Step],
    rate: Decimal,
    multiplier: Decimal,
    *,
    amount_refunds_reverse: bool,
) -> dict[datetime, int]:
    """Tier points moved at each moment (UTC) by the order's award and ``steps`` at
    ``multiplier``; ``award`` is the snapshot of the paying payload."""
    snapshot = award
    awarded = award_points(snapshot.eligible, rate, multiplier)
    reversed_points = 0
    moves: dict[datetime, int] = {}

    def move(moment: datetime, points: int) -> None:
        key = moment.astimezone(UTC)
        moves[key] = moves.get(key, 0) + points

    def reverse_to(moment: datetime, *, give_back: bool = False) -> None:
        nonlocal reversed_points
        reversed_eligible = snapshot.reversed_eligible(
            amount_refunds_reverse=amount_refunds_reverse
        )
        target = cumulative_reversal(awarded, snapshot.eligible, reversed_eligible)
        delta = target - reversed_points
        if delta < 0 and not give_back:
            delta = 0  # a reversal is never undone, except when the award itself grew
        reversed_points += delta
        move(moment, -delta)

    move(processed_at, awarded)
    cancelled = False
    for step in steps:
        if step.refund is not None:
            snapshot = snapshot.with_refund(step.refund)
            reverse_to(step.refund.processed_at or step.applied_at)
        elif step.cancelled:
            cancelled = True
            delta = max(awarded - reversed_points, 0)
            reversed_points += delta
            move(step.applied_at, -delta)
        elif step.edit is not None and not cancelled:
            snapshot = snapshot.with_edit(step.edit)
            reverse_to(step.applied_at)
        elif step.contents is not None and not cancelled:
            snapshot, added = snapshot.with_contents(step.contents)
            if added:
                grown = max(award_points(snapshot.eligible, rate, multiplier) - awarded, 0)
                awarded += grown
                move(step.applied_at, grown)
            reverse_to(step.applied_at, give_back=bool(added))
    return moves

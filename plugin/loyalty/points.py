"""The arithmetic of points, stated once.

- An award is ``floor(eligible × rate × multiplier)``: whole points, rounded down, computed in
  exact decimals.
- Reversals are cumulative: after each refund the order's total reversal is
  ``round_half_up(awarded × refunded_eligible / eligible)``, capped at ``awarded``; the refund
  reverses the difference from what was already reversed. So no set of refunds reverses more
  than the order earned, and a full refund reverses exactly what it earned.
- A reversal takes from the order's still-pending points first, then from available points.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal


def award_points(eligible: Decimal, rate: Decimal, multiplier: Decimal) -> int:
    if eligible <= 0 or rate <= 0 or multiplier <= 0:
        return 0
    return int((eligible * rate * multiplier).to_integral_value(rounding=ROUND_FLOOR))


def cumulative_reversal(awarded: int, eligible: Decimal, refunded: Decimal) -> int:
    """Total points reversed once ``refunded`` of ``eligible`` has been refunded."""
    if awarded <= 0 or refunded <= 0:
        return 0
    if eligible <= 0 or refunded >= eligible:
        return awarded
    share = (Decimal(awarded) * refunded / eligible).to_integral_value(rounding=ROUND_HALF_UP)
    return min(int(share), awarded)


def split_reversal(points: int, pending_remaining: int) -> tuple[int, int]:
    """(taken from pending, taken from available) for a reversal of ``points``."""
    from_pending = min(points, max(pending_remaining, 0))
    return from_pending, points - from_pending

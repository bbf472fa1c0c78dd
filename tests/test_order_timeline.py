"""``loyalty.order_timeline``: when an awarded order's tier points moved, at a given multiplier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from plugin.loyalty.order_timeline import Step, moves_by_moment
from plugin.loyalty.refunds import RefundFacts
from plugin.loyalty.settlement import OrderSnapshot, SnapshotLine

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOFAS = OrderSnapshot(
    lines={1: SnapshotLine(2, Decimal("1400"), Decimal("1400"))},
    shipping=Decimal(0),
    shipping_charged=Decimal(0),
    taxes_included=False,
)


def refund(units: int, hours: float) -> RefundFacts:
    return RefundFacts(
        refund_id=10 + units,
        order_id=7,
        lines=((1, units),),
        shipping=Decimal(0),
        processed_at=AT + timedelta(hours=hours),
    )


def moves(multiplier: str, *steps: Step) -> dict[datetime, int]:
    return moves_by_moment(
        SOFAS, AT, steps, Decimal(1), Decimal(multiplier), amount_refunds_reverse=True
    )


def test_the_award_moves_at_the_orders_moment_and_each_refund_at_its_own() -> None:
    applied = AT + timedelta(days=1)  # delivered late: the refunds' moments still decide
    steps = (Step(applied, refund=refund(1, 2)), Step(applied, refund=refund(1, 5)))
    assert moves("1", *steps) == {
        AT: 1400,
        AT + timedelta(hours=2): -700,
        AT + timedelta(hours=5): -700,
    }
    # At Silver the same steps move more, at the same moments; the order still ends at zero.
    assert moves("1.25", *steps) == {
        AT: 1750,
        AT + timedelta(hours=2): -875,
        AT + timedelta(hours=5): -875,
    }


def test_a_cancellation_moves_what_is_left_when_it_was_applied() -> None:
    cancelled = AT + timedelta(hours=3)
    result = moves("1.5", Step(cancelled, refund=refund(1, 1)), Step(cancelled, cancelled=True))
    assert result == {AT: 2100, AT + timedelta(hours=1): -1050, cancelled: -1050}


def test_moments_in_other_offsets_are_the_same_moment_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    step = Step(AT, refund=refund(2, 0))
    shifted = RefundFacts(
        refund_id=3,
        order_id=7,
        lines=((1, 2),),
        shipping=Decimal(0),
        processed_at=AT.astimezone(paris),
    )
    assert moves("1", step) == {AT: 0}
    assert moves("1", Step(AT, refund=shifted)) == {AT: 0}
    assert next(iter(moves("1", Step(AT, refund=shifted)))).tzinfo == UTC

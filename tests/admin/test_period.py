"""The analytics period: ``from``/``to`` read, checked and defaulted (``plugin.admin.period``)."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.admin.period import PeriodError, parse_period

TODAY = date(2026, 12, 2)


def test_the_default_period_is_the_twelve_weeks_up_to_today() -> None:
    period = parse_period(None, None, TODAY)
    assert (period.first, period.last) == (date(2026, 9, 10), TODAY)


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "field"),
    [
        (None, "0001-01-01", "to"),  # the default start would be before the calendar begins
        ("9999-12-31", "9999-12-31", "from"),  # the exclusive end would be after it ends
        ("1899-12-31", "1900-01-01", "from"),
        ("2026-13-01", None, "from"),
        ("2026-12-03", "2026-12-02", "from"),
    ],
)
def test_a_period_outside_the_calendar_or_backwards_is_refused_by_field(
    raw_from: str | None, raw_to: str | None, field: str
) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_period(raw_from, raw_to, TODAY)
    assert field in refused.value.errors


def test_the_calendars_edges_kept_are_usable() -> None:
    period = parse_period("2999-12-01", "2999-12-31", TODAY)
    assert period.end.year == 3000
    assert period.weeks()[0] <= date(2999, 12, 1)

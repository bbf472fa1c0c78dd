"""The period of the analytics: ``from`` and ``to`` dates (UTC), both included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

MAX_DAYS = 731


class PeriodError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after ``last``."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=UTC)

    def weeks(self) -> list[date]:
        monday = self.first - timedelta(days=self.first.weekday())
        weeks = []
        while monday <= self.last:
            weeks.append(monday)
            monday += timedelta(days=7)
        return weeks


EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """``from``/``to`` as ``YYYY-MM-DD``; by default the 12 weeks up to today."""
    errors: dict[str, str] = {}
    values: dict[str, date] = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if raw is None:
            continue
        try:
            if len(raw) != 10:
                raise ValueError(raw)
            values[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = "must be a date as YYYY-MM-DD"
            continue
        if not EARLIEST <= values[name] <= LATEST:
            # Far enough inside the calendar that the default start (12 weeks earlier) and
            # the exclusive end (a day later) exist: 0001-01-01 used to overflow into a 500.
            errors[name] = f"must be a date from {EARLIEST} to {LATEST}"
    if errors:
        raise PeriodError(errors)
    last = values.get("to", today)
    first = values.get("from", last - timedelta(days=83))
    if first > last:
        raise PeriodError({"from": "must be on or before 'to'"})
    if (last - first).days >= MAX_DAYS:
        raise PeriodError({"to": f"the period may span at most {MAX_DAYS} days"})
    return Period(first, last)

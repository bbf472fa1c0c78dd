"""A progress bar on stderr."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """A one-line bar on stderr: done/total, rate, elapsed and time left."""

    def __init__(self, total: int, unit: str) -> None:
        self.total, self.unit, self.done = total, unit, 0
        self.started = time.monotonic()

    def advance(self, count: int, note: str = "") -> None:
        self.done += count
        elapsed = time.monotonic() - self.started
        share = self.done / self.total if self.total else 1.0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * int(30 * share)
        sys.stderr.write(
            f"\r[{bar:<30}] {share:6.1%} {self.done:,}/{self.total:,} {self.unit} "
            f"{rate:,.0f}/s {_clock(elapsed)} elapsed, {_clock(left)} left {note:<24}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"

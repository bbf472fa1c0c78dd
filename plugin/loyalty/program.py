"""A shop's loyalty program: validated settings with the defaults every new shop starts with.

Settings are data, stored as JSON on the shop. Changing them affects new events only: each award
snapshots the rate and multiplier it used, and reversals use the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

AwardOn = Literal["paid", "fulfilled"]


class ProgramError(ValueError):
    """Invalid settings; ``errors`` maps each field to a message a merchant can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Tier:
    key: str
    name: str
    threshold: int
    multiplier: Decimal


DEFAULT_TIERS = (
    Tier("bronze", "Bronze", 0, Decimal("1")),
    Tier("silver", "Silver", 500, Decimal("1.25")),
    Tier("gold", "Gold", 1500, Decimal("1.5")),
)


@dataclass(frozen=True)
class ProgramSettings:
    # Points per 1.00 of the shop's currency on the eligible amount.
    earn_rate: Decimal = Decimal("1")
    include_shipping: bool = False
    include_tax: bool = False
    award_on: AwardOn = "paid"
    # A refund of money only (no units back, e.g. a goodwill partial refund) reverses points in
    # proportion, or leaves them (issue 11 owns the behaviour; the admin edits the setting).
    amount_refunds_reverse_points: bool = True
    tiers: tuple[Tier, ...] = field(default=DEFAULT_TIERS)
    tier_window_days: int = 365
    pending_days: int = 0
    expiry_days: int | None = None
    welcome_bonus: int = 100
    # Customers become members with their first paid order; off means they must join first.
    auto_enroll: bool = True

    def tier_for(self, tier_points: int) -> Tier:
        current = self.tiers[0]
        for tier in self.tiers:
            if tier_points >= tier.threshold:
                current = tier
        return current

    def tier_by_key(self, key: str | None) -> Tier:
        for tier in self.tiers:
            if tier.key == key:
                return tier
        return self.tiers[0]

    def next_tier(self, tier_points: int) -> Tier | None:
        for tier in self.tiers:
            if tier.threshold > tier_points:
                return tier
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "earn_rate": str(self.earn_rate),
            "include_shipping": self.include_shipping,
            "include_tax": self.include_tax,
            "award_on": self.award_on,
            "amount_refunds_reverse_points": self.amount_refunds_reverse_points,
            "tiers": [
                {
                    "key": t.key,
                    "name": t.name,
                    "threshold": t.threshold,
                    "multiplier": str(t.multiplier),
                }
                for t in self.tiers
            ],
            "tier_window_days": self.tier_window_days,
            "pending_days": self.pending_days,
            "expiry_days": self.expiry_days,
            "welcome_bonus": self.welcome_bonus,
            "auto_enroll": self.auto_enroll,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ProgramSettings:
        """Parse and validate; missing keys take the defaults. Raises ``ProgramError``."""
        data = data or {}
        errors: dict[str, str] = {}
        base = cls()
        values: dict[str, Any] = {}

        if "earn_rate" in data:
            rate = _decimal(data["earn_rate"])
            if rate is None or rate < 0 or rate > 1000:
                errors["earn_rate"] = "must be a number from 0 to 1000"
            else:
                values["earn_rate"] = rate
        for flag in (
            "include_shipping",
            "include_tax",
            "auto_enroll",
            "amount_refunds_reverse_points",
        ):
            if flag in data:
                if not isinstance(data[flag], bool):
                    errors[flag] = "must be true or false"
                else:
                    values[flag] = data[flag]
        if "award_on" in data:
            if data["award_on"] not in ("paid", "fulfilled"):
                errors["award_on"] = "must be 'paid' or 'fulfilled'"
            else:
                values["award_on"] = data["award_on"]
        for name, low, high in (
            ("tier_window_days", 1, 3660),
            ("pending_days", 0, 365),
            ("welcome_bonus", 0, 1_000_000),
        ):
            if name in data:
                value = data[name]
                if not _is_int(value) or not low <= value <= high:
                    errors[name] = f"must be a whole number from {low} to {high}"
                else:
                    values[name] = value
        if "expiry_days" in data:
            value = data["expiry_days"]
            if value is not None and (not _is_int(value) or not 1 <= value <= 3660):
                errors["expiry_days"] = "must be empty (never) or a whole number from 1 to 3660"
            else:
                values["expiry_days"] = value
        if "tiers" in data:
            tiers, tier_error = _parse_tiers(data["tiers"])
            if tier_error:
                errors["tiers"] = tier_error
            else:
                values["tiers"] = tiers
        if errors:
            raise ProgramError(errors)
        return replace(base, **values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool | float):
        return None  # floats are refused: money-like settings are exact decimals or strings
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _parse_tiers(raw: Any) -> tuple[tuple[Tier, ...], str | None]:
    if not isinstance(raw, list) or not raw:
        return (), "must be a non-empty list"
    tiers: list[Tier] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            return (), f"tier {i + 1} must be an object"
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            return (), f"tier {i + 1} needs a name of 1 to 64 characters"
        threshold = item.get("threshold")
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
            return (), f"tier {name!r} needs a whole, non-negative threshold"
        multiplier = _decimal(item.get("multiplier", "1"))
        if multiplier is None or not Decimal("0") < multiplier <= Decimal("10"):
            return (), f"tier {name!r} needs a multiplier above 0 and at most 10"
        key = item.get("key") or name.strip().lower().replace(" ", "-")
        tiers.append(Tier(str(key), name.strip(), threshold, multiplier))
    if tiers[0].threshold != 0:
        return (), "the first tier must start at 0 points"
    if any(b.threshold <= a.threshold for a, b in zip(tiers, tiers[1:], strict=False)):
        return (), "thresholds must increase from one tier to the next"
    if len({t.key for t in tiers}) != len(tiers):
        return (), "tier names must be unique"
    return tuple(tiers), None

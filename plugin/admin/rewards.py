"""The program's rewards as the admin edits them: parse a submitted list, apply it to the rows.

Rewards are rows (``Reward``, owned by the checkout room), not settings: a redemption refers to
its reward, so a reward is never deleted, only deactivated (``active: false``). A submitted
reward with an ``id`` edits that reward of this shop; one without adds a reward. Rewards not in
the list are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Reward, Shop

REWARD_KINDS = {
    "fixed_amount": "Amount off the order",
    "percentage": "Percentage off the order",
    "free_shipping": "Free shipping",
    "store_credit": "Store credit",
}
MAX_REWARDS = 50


class RewardError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class RewardInput:
    id: int | None
    title: str
    kind: str
    points_cost: int
    value: Decimal
    active: bool


def reward_json(reward: Reward) -> dict[str, Any]:
    return {
        "id": str(reward.id),
        "title": reward.title,
        "kind": reward.reward_type,
        "points_cost": reward.points_cost,
        "value": str(reward.value),
        "active": reward.active,
    }


def parse_rewards(raw: Any) -> list[RewardInput]:
    """Validate every reward; errors are keyed ``rewards.<index>.<field>``."""
    if not isinstance(raw, list):
        raise RewardError({"rewards": "must be a list of rewards"})
    if len(raw) > MAX_REWARDS:
        raise RewardError({"rewards": f"at most {MAX_REWARDS} rewards"})
    errors: dict[str, str] = {}
    parsed: list[RewardInput] = []
    seen: set[int] = set()
    for i, item in enumerate(raw):
        at = f"rewards.{i}"
        if not isinstance(item, dict):
            errors[at] = "must be an object"
            continue
        reward_id = item.get("id")
        pk: int | None = None
        if reward_id not in (None, ""):
            text = str(reward_id) if isinstance(reward_id, str | int) else ""
            if isinstance(reward_id, bool) or not text.isdigit() or not 0 < int(text) < 2**63:
                errors[f"{at}.id"] = "not a reward of this shop"
            elif int(text) in seen:
                errors[f"{at}.id"] = "listed twice"
            else:
                pk = int(text)
                seen.add(pk)
        title = item.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 255:
            errors[f"{at}.title"] = "a name of 1 to 255 characters"
        kind = item.get("kind")
        if kind not in REWARD_KINDS:
            errors[f"{at}.kind"] = "one of: " + ", ".join(REWARD_KINDS)
        cost = item.get("points_cost")
        if not isinstance(cost, int) or isinstance(cost, bool) or not 1 <= cost <= 10_000_000:
            errors[f"{at}.points_cost"] = "a whole number of points from 1 to 10,000,000"
        value = _value(item.get("value", "0"), kind)
        if value is None:
            errors[f"{at}.value"] = (
                "a percentage above 0 and at most 100"
                if kind == "percentage"
                else "an amount above 0 and at most 100,000.00, like 5.00"
            )
        active = item.get("active", True)
        if not isinstance(active, bool):
            errors[f"{at}.active"] = "must be true or false"
        if not any(key.startswith(at) for key in errors):
            assert isinstance(title, str)
            assert isinstance(cost, int)
            assert value is not None
            parsed.append(RewardInput(pk, title.strip(), str(kind), cost, value, bool(active)))
    if errors:
        raise RewardError(errors)
    return parsed


def _value(raw: Any, kind: Any) -> Decimal | None:
    if kind == "free_shipping":
        return Decimal("0.00")  # nothing to say: shipping is free
    if isinstance(raw, bool | float) or not isinstance(raw, str | int):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        return None
    limit = Decimal(100) if kind == "percentage" else Decimal(100_000)
    return value if Decimal(0) < value <= limit else None


def apply_rewards(session: Session, shop: Shop, rewards: list[RewardInput], now: datetime) -> None:
    """Edit and add this shop's rewards; a foreign or unknown id raises ``RewardError`` (the
    caller's transaction then rolls back whatever was changed)."""
    ids = [r.id for r in rewards if r.id is not None]
    existing = (
        {
            row.id: row
            for row in session.scalars(
                select(Reward).where(Reward.shop_id == shop.id, Reward.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    missing = {
        f"rewards.{i}.id": "not a reward of this shop"
        for i, r in enumerate(rewards)
        if r.id is not None and r.id not in existing
    }
    if missing:
        raise RewardError(missing)
    for r in rewards:
        row = existing[r.id] if r.id is not None else Reward(shop_id=shop.id, created_at=now)
        row.title, row.reward_type, row.points_cost = r.title, r.kind, r.points_cost
        row.value, row.active = r.value, r.active
        if r.id is None:
            session.add(row)

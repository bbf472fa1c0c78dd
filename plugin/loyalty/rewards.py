"""Rewards a shopper can buy with points, and what each becomes at Shopify.

Kinds (``Reward.reward_type``): ``fixed_amount`` (an amount off the order, a single-use code),
``percentage`` (a percentage off, ``value`` from 0 to 100, a single-use code), ``free_shipping``
(a single-use free-shipping code) and ``store_credit`` (native store credit in the shop's
currency, no code at all).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Final, Literal

REWARD_KINDS: Final = ("fixed_amount", "percentage", "free_shipping", "store_credit")
CODE_KINDS: Final = frozenset({"fixed_amount", "percentage", "free_shipping"})
# A redeemed code is for this checkout, not a coupon to keep: it ends soon after.
CODE_LIFETIME: Final = timedelta(days=7)
_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely

IssueKind = Literal["discount_code", "store_credit"]


@dataclass(frozen=True)
class RewardOffer:
    id: int
    title: str
    kind: str
    points_cost: int
    value: Decimal

    @property
    def issue_kind(self) -> IssueKind:
        return "store_credit" if self.kind == "store_credit" else "discount_code"


def new_discount_code() -> str:
    """A unique, unguessable single-use code (the reconcile job finds it again by this code)."""
    return "KANTA-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def percentage_fraction(value: Decimal) -> Decimal:
    """``value`` (0–100) as the fraction Shopify's ``percentage`` input takes (0–1)."""
    return (value / Decimal(100)).quantize(Decimal("0.0001"))

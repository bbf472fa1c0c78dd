"""Each shopper's usual payment method and delivery option, learned from their orders or chosen.

Learned: the most frequent choice in the customer's last ``LEARN_FROM_LAST`` paid orders, ties
going to the most recent. An order that cannot say anything about a kind (Shop Cash or a gift
card for payment; a POS sale or a pickup for delivery) casts no vote for that kind but still
counts among the last orders. Chosen: what the shopper picked in the widget; it wins over the
learned value until they clear it.

Plain Python: the callers read orders and preference rows and store the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .payment_names import checkout_name_for_gateway

LEARN_FROM_LAST = 5
PreferenceKind = Literal["payment", "delivery"]
PreferenceSource = Literal["learned", "chosen"]
# Delivery kinds whose option is a real choice among shipping rates (not pickup, not POS).
TEACHING_DELIVERY_KINDS = frozenset({"shipping", "local"})
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class PaidOrderChoices:
    """What one paid order says about the shopper's choices (newest order first in a list)."""

    payment_gateway: str | None
    delivery_title: str | None
    delivery_code: str | None
    delivery_kind: str | None


@dataclass(frozen=True)
class Choice:
    """A remembered choice: the name checkout shows and the handle the order recorded."""

    value: str
    handle: str | None


@dataclass(frozen=True)
class LearnedChoices:
    payment: Choice | None
    delivery: Choice | None


def _most_frequent(votes: Sequence[Choice]) -> Choice | None:
    """Most frequent value; ties go to the value seen most recently (votes are newest first)."""
    if not votes:
        return None
    counts: dict[str, int] = {}
    for vote in votes:
        counts[vote.value] = counts.get(vote.value, 0) + 1
    best = max(counts.values())
    return next(vote for vote in votes if counts[vote.value] == best)


def learn_choices(orders_newest_first: Sequence[PaidOrderChoices]) -> LearnedChoices:
    recent = orders_newest_first[:LEARN_FROM_LAST]
    payments: list[Choice] = []
    deliveries: list[Choice] = []
    for order in recent:
        name = checkout_name_for_gateway(order.payment_gateway)
        if name is not None:
            payments.append(Choice(name[:MAX_NAME_LENGTH], order.payment_gateway))
        if order.delivery_kind in TEACHING_DELIVERY_KINDS and order.delivery_title:
            deliveries.append(Choice(order.delivery_title[:MAX_NAME_LENGTH], order.delivery_code))
    return LearnedChoices(payment=_most_frequent(payments), delivery=_most_frequent(deliveries))


@dataclass(frozen=True)
class PreferredCheckoutChoices:
    """What the widget shows and the Functions act on: chosen wins over learned, per kind.

    ``source`` is "chosen" when any kind comes from the shopper's own choice, "learned" when
    everything shown was learned, None when nothing is known."""

    payment_method: str | None
    delivery_option: str | None
    source: PreferenceSource | None

    @classmethod
    def resolve(cls, rows: Sequence[tuple[str, str, str]]) -> PreferredCheckoutChoices:
        """From (kind, source, value) rows of one customer."""
        by_key = {(kind, source): value for kind, source, value in rows}
        payment = by_key.get(("payment", "chosen")) or by_key.get(("payment", "learned"))
        delivery = by_key.get(("delivery", "chosen")) or by_key.get(("delivery", "learned"))
        source: PreferenceSource | None = None
        if ("payment", "chosen") in by_key or ("delivery", "chosen") in by_key:
            source = "chosen"
        elif payment is not None or delivery is not None:
            source = "learned"
        return cls(payment, delivery, source)


def clean_choice(raw: object, field: str) -> str | None:
    """A shopper's choice from the request: a non-empty name up to 255 characters, or None
    (clear). Raises ValueError with a message the widget can show."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{field} must be a name or null")
    value = " ".join(raw.split())
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"{field} must be at most {MAX_NAME_LENGTH} characters")
    if any(not ch.isprintable() for ch in value):
        raise ValueError(f"{field} must be printable text")
    return value

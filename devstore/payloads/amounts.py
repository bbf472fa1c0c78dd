"""Ids, money and amounts for the payload builders: 64-bit ids derived from their parent,
Shopify's money strings, and amounts kept in shop and presentment currency at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

JSON = dict[str, Any]

#: Every simulated id is at least this big: above 2**53, below 2**63.
ID_BASE = 7_000_000_000_000_000_000
_DERIVED_SPAN = 2_000_000_000_000_000_000
CENT = Decimal("0.01")
ZERO = Decimal("0")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_LOCATION_ID = ID_BASE + 900_001

assert ID_BASE > 2**53
assert ID_BASE + _DERIVED_SPAN < 2**63


def derive_id(parent_id: int, kind: str, index: int = 0) -> int:
    """A stable child id in ``[ID_BASE, ID_BASE + 2e18)`` derived from the parent id."""
    digest = hashlib.sha256(f"{parent_id}:{kind}:{index}".encode()).digest()
    return ID_BASE + int.from_bytes(digest[:8], "big") % _DERIVED_SPAN


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """Shopify's money string: two decimals, no exponent (``Decimal("5")`` → ``"5.00"``)."""
    return format(cents(value), "f")


def ts(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; pass a timezone-aware datetime")
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Amount:
    """One amount in shop and presentment currency, rounded to cents in each."""

    shop: Decimal
    presentment: Decimal

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.shop + other.shop, self.presentment + other.presentment)

    def __sub__(self, other: Amount) -> Amount:
        return Amount(self.shop - other.shop, self.presentment - other.presentment)

    def __neg__(self) -> Amount:
        return Amount(-self.shop, -self.presentment)


NIL = Amount(ZERO, ZERO)


@dataclass(frozen=True)
class Currencies:
    shop: str
    presentment: str
    rate: Decimal

    def amount(self, shop_value: Decimal) -> Amount:
        shop_value = cents(shop_value)
        return Amount(shop_value, cents(shop_value * self.rate))

    def money_set(self, value: Amount) -> JSON:
        return {
            "shop_money": {"amount": money(value.shop), "currency_code": self.shop},
            "presentment_money": {
                "amount": money(value.presentment),
                "currency_code": self.presentment,
            },
        }


def sum_amounts(amounts: list[Amount]) -> Amount:
    result = NIL
    for item in amounts:
        result = result + item
    return result


def read_amount(money_set: JSON) -> Amount:
    return Amount(
        Decimal(money_set["shop_money"]["amount"]),
        Decimal(money_set["presentment_money"]["amount"]),
    )


def currencies_of(order: JSON) -> Currencies:
    shop = read_amount(order["total_price_set"])
    rate = shop.presentment / shop.shop if shop.shop else Decimal(1)
    return Currencies(order["currency"], order["presentment_currency"], rate)


@dataclass(frozen=True)
class LineSpec:
    """One cart line. ``discount`` is a line-level discount for the whole line, shop currency."""

    title: str
    price: Decimal
    quantity: int = 1
    product_id: int | None = None
    variant_id: int | None = None
    gift_card: bool = False
    discount: Decimal = field(default=ZERO)
    taxable: bool = True
    sku: str | None = None
    variant_title: str | None = None
    requires_shipping: bool = True

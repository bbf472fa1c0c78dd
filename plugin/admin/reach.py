"""Which remembered payment choices the checkout Functions can really move on a shop.

From ``../shared/reference/platform-2026-12.md`` §0 and §1(b): a Payment Customization Function
cannot reorder wallets (Shop Pay, Apple Pay, Google Pay, …: they can only be hidden), applies no
operation inside Shop Pay, and on non-Plus shops in the United States and Canada cannot move the
Shopify Payments credit-card method. Restricted operations are dropped silently, so Kanta must
say which moves count before the merchant believes a figure. Gift cards, store credit and Shop
Cash are never remembered choices.

Pure functions: the analytics module feeds them the shop's plan and country and the payment
method names of its orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Movable = Literal["yes", "no", "unknown", "not_remembered"]

WALLETS = ("shop pay", "apple pay", "google pay", "amazon pay", "meta pay", "samsung pay")
NOT_REMEMBERED = ("gift card", "store credit", "shop cash", "shop_cash")
CARD_NAMES = ("credit card", "debit card", "card", "shopify_payments", "shopify payments")
# Where a non-Plus shop's Shopify Payments card cannot be moved (third-party source, see §1(b)).
CARD_LOCKED_COUNTRIES = ("US", "CA")


@dataclass(frozen=True)
class MethodReach:
    name: str
    movable: Movable
    why: str


def payment_reach(name: str, *, country: str | None, shopify_plus: bool | None) -> MethodReach:
    """Can the Payment Customization Function put ``name`` first on this shop?"""
    lowered = name.strip().lower()
    if any(word in lowered for word in NOT_REMEMBERED):
        return MethodReach(name, "not_remembered", "gift cards and store credit are not choices")
    if any(wallet in lowered for wallet in WALLETS):
        return MethodReach(name, "no", "a wallet: Functions can only hide wallets, never move them")
    if lowered in CARD_NAMES:
        if shopify_plus is None or country is None:
            return MethodReach(name, "unknown", "the shop's plan and country are not synced yet")
        if not shopify_plus and country.upper() in CARD_LOCKED_COUNTRIES:
            return MethodReach(
                name,
                "no",
                f"the card method cannot be moved on a non-Plus shop in {country.upper()}",
            )
        return MethodReach(name, "yes", "the card method can be moved on this plan and country")
    return MethodReach(name, "yes", "Functions can move this method to the top")

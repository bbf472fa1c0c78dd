"""What members are drawn from: names, email domains, the payments and deliveries checkout
offers."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

FIRST_NAMES = (
    "Aino Alex Alice Amelia Anna Ava Ben Carlos Charlotte Chloe Daniel David Elena Elias Ella "
    "Emil Emily Emma Eva Felix Grace Hanna Harper Henry Isabella Ivan Jack James Jessica John "
    "Jonas Joseph Julia Kai Kaito Laura Leo Liam Lily Lucas Luis Maria Mason Mateo Mia Michael "
    "Mika Nina Noah Olivia Oliver Omar Otto Paula Pedro Priya Rahul Robert Sara Sofia Sophia "
    "Thomas Valentina Veera William Yuki Zoe"
).split()
LAST_NAMES = (
    "Anderson Becker Brown Carter Chen Clark Costa Davis Dubois Evans Fischer Garcia Gonzalez "
    "Hall Hansen Harris Hernandez Ito Jackson Johnson Jones Kim Korhonen Kumar Lee Lewis Lopez "
    "Martin Martinez Miller Moore Muller Nguyen Nieminen Novak Patel Perez Rossi Sanchez Santos "
    "Schmidt Silva Smith Suzuki Tanaka Taylor Thomas Thompson Virtanen Walker White Williams "
    "Wilson Wright Young"
).split()
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example", "shop.example", "inbox.example")
# (gateway, name checkout shows, weight)
PAYMENTS = (
    ("shopify_payments", "Credit card", 55),
    ("paypal", "PayPal", 25),
    ("shopify_payments", "Shop Pay", 10),
    ("Cash on Delivery (COD)", "Cash on Delivery (COD)", 5),
    ("Bank Deposit", "Bank Deposit", 5),
)
# (title, code, kind, weight)
DELIVERIES = (
    ("Standard", "STANDARD", "shipping", 60),
    ("Express", "EXPRESS", "shipping", 25),
    ("Pickup in store", "pickup-main-street", "pickup", 10),
    ("Local delivery", "LOCAL", "local", 5),
)


def weighted(rng: random.Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """One of ``options``, drawn by the weight each ends with."""
    return rng.choices(options, weights=[o[-1] for o in options])[0]

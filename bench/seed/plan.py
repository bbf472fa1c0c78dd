"""How the members and entries are shared out: between the shops, and into chunks."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import CHUNK_MEMBERS, OTHER_SHOP_SHARE


@dataclass(frozen=True)
class ShopPlan:
    """One shop's share: its members are customer ids ``first_customer_id`` onwards."""

    number: int
    domain: str
    members: int
    entries: int
    first_customer_id: int

    def chunks(self) -> int:
        return math.ceil(self.members / CHUNK_MEMBERS)

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """Members ``[start, stop)`` (indexes within the shop) and so its entry budget."""
        return chunk * CHUNK_MEMBERS, min(self.members, (chunk + 1) * CHUNK_MEMBERS)

    def entries_for(self, start: int, stop: int) -> int:
        return self.entries * stop // self.members - self.entries * start // self.members


def plan_shops(members: int, entries: int, other_shops: int) -> list[ShopPlan]:
    if members < 1 or entries < members:
        raise SystemExit("need at least one member and at least one entry per member")
    sizes = [(members, entries)] + [
        (max(1, round(members * OTHER_SHOP_SHARE)), max(1, round(entries * OTHER_SHOP_SHARE)))
        for _ in range(other_shops)
    ]
    plans, next_id = [], 1
    for number, (shop_members, shop_entries) in enumerate(sizes, start=1):
        shop_entries = max(shop_entries, shop_members)
        domain = f"bench-{number}.myshopify.com"
        plans.append(ShopPlan(number, domain, shop_members, shop_entries, next_id))
        next_id += shop_members
    return plans

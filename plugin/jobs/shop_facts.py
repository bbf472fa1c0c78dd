"""Jobs that copy what Shopify knows of a shop into Kanta: its plan and billing country (what the
checkout Functions may move depends on them) and its collections (for segments by collection).

Both are idempotent (they overwrite what they synced before) and swallow Shopify's failures
after logging them: the figures they feed say "not synced yet" until a later run succeeds.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete

from . import job

if TYPE_CHECKING:
    from ..runtime import Kanta

log = logging.getLogger(__name__)

SHOP_FACTS_QUERY = """
query ShopFacts {
  shop {
    plan { displayName partnerDevelopment shopifyPlus }
    billingAddress { countryCodeV2 }
  }
}
"""

COLLECTIONS_QUERY = """
query Collections($after: String) {
  collections(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id title products(first: 250) { nodes { id } } }
  }
}
"""
MAX_COLLECTION_PAGES = 40


def _gid(value: Any) -> int | None:
    raw = str(value or "").rsplit("/", 1)[-1]
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63 else None


@job("sync_shop_facts")
def sync_shop_facts(kanta: Kanta, shop_id: int) -> bool:
    from ..install import ReauthorizationRequired, access_token_for
    from ..models import Shop
    from ..shopify.gateway import ShopifyError

    try:
        with kanta.db.read() as session:
            shop = session.get(Shop, shop_id)
            if shop is None or not shop.is_installed:
                return False
            domain = shop.domain
        data = kanta.shopify.graphql(domain, access_token_for(kanta, shop_id), SHOP_FACTS_QUERY)
    except (ReauthorizationRequired, ShopifyError) as error:
        log.warning("shop facts of shop %s not synced: %s", shop_id, type(error).__name__)
        return False
    facts = data.get("shop") or {}
    plan = facts.get("plan") or {}
    country = (facts.get("billingAddress") or {}).get("countryCodeV2")
    with kanta.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return False
        shop.plan_display_name = str(plan.get("displayName") or "")[:64] or None
        plus = plan.get("shopifyPlus")
        shop.plan_shopify_plus = plus if isinstance(plus, bool) else None
        shop.country_code = country if isinstance(country, str) and len(country) == 2 else None
        shop.shop_facts_synced_at = kanta.now()
    return True


@job("sync_collections")
def sync_collections(kanta: Kanta, shop_id: int) -> int:
    """Replace the shop's collection → product map with what Shopify lists now."""
    from ..db import insert_for
    from ..install import ReauthorizationRequired, access_token_for
    from ..models import CollectionProduct, Shop
    from ..shopify.gateway import ShopifyError

    rows: dict[tuple[int, int], str] = {}
    try:
        with kanta.db.read() as session:
            shop = session.get(Shop, shop_id)
            if shop is None or not shop.is_installed:
                return 0
            domain = shop.domain
        token = access_token_for(kanta, shop_id)
        after: str | None = None
        for _ in range(MAX_COLLECTION_PAGES):
            data = kanta.shopify.graphql(domain, token, COLLECTIONS_QUERY, {"after": after})
            page = data.get("collections") or {}
            for node in page.get("nodes") or []:
                collection_id = _gid(node.get("id"))
                products = (node.get("products") or {}).get("nodes") or []
                for product in products:
                    product_id = _gid(product.get("id"))
                    if collection_id and product_id:
                        rows[(collection_id, product_id)] = str(node.get("title") or "")[:255]
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
    except (ReauthorizationRequired, ShopifyError) as error:
        log.warning("collections of shop %s not synced: %s", shop_id, type(error).__name__)
        return 0
    now = kanta.now()
    with kanta.db.transaction() as session:
        session.execute(delete(CollectionProduct).where(CollectionProduct.shop_id == shop_id))
        if rows:
            session.execute(
                insert_for(session, CollectionProduct),
                [
                    {
                        "shop_id": shop_id,
                        "shopify_collection_id": collection_id,
                        "product_id": product_id,
                        "collection_title": title,
                        "synced_at": now,
                    }
                    for (collection_id, product_id), title in rows.items()
                ],
            )
    return len(rows)

"""The customer's app-owned metafield the checkout Functions read: ``$app:kanta`` /
``preferences`` (type json), written with ``metafieldsSet`` (an upsert: writing it twice is
harmless, so the gateway may repeat the call after a 5xx)."""

from __future__ import annotations

from typing import Any

from .gateway import ShopifyGateway

NAMESPACE = "$app:kanta"
KEY = "preferences"

METAFIELDS_SET = """
mutation KantaPreferences($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key }
    userErrors { field code message }
  }
}
"""


def set_customer_preferences(
    gateway: ShopifyGateway, shop: str, token: str, customer_gid: str, value: str
) -> dict[str, Any]:
    return gateway.graphql(
        shop,
        token,
        METAFIELDS_SET,
        {
            "metafields": [
                {
                    "ownerId": customer_gid,
                    "namespace": NAMESPACE,
                    "key": KEY,
                    "type": "json",
                    "value": value,
                }
            ]
        },
    )

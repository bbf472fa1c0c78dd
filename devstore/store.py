"""`DevStore`: the simulated Shopify store — catalogue, customers, orders, app install state,
access tokens, discounts, metafields and the GraphQL cost bucket — composed of one class per
concern over the shared state (``state.StoreState``: one lock, JSON state persisted atomically,
webhooks queued and handed over after each mutation).
"""

from __future__ import annotations

from devstore.admin_state import AdminApiState, ThrottleStatus
from devstore.app_install import AppInstall
from devstore.catalogue import (
    DEFAULT_SCOPES,
    DELIVERY_OPTIONS,
    PAYMENT_METHODS,
    DeliveryOption,
    PaymentMethod,
)
from devstore.order_changes import OrderChanges
from devstore.state import WebhookEvent
from devstore.tokens import AccessTokens

__all__ = [
    "DEFAULT_SCOPES",
    "DELIVERY_OPTIONS",
    "PAYMENT_METHODS",
    "DeliveryOption",
    "DevStore",
    "PaymentMethod",
    "ThrottleStatus",
    "WebhookEvent",
]


class DevStore(AppInstall, OrderChanges, AccessTokens, AdminApiState):
    """The simulated Shopify: every shop, the one app (Kanta) and its tokens. Thread-safe."""

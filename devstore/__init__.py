"""devstore — a local Shopify simulator for Kanta's demo and tests. It *is* "Shopify": it imports
nothing from the Kanta app (``plugin``, ``webhooks``).

What is simulated (sections of ``/work/shared/reference/shopify-platform.md``):

- App Bridge ID tokens and checkout UI extension session tokens (§2.1, §2.2) — `signing`;
- the token endpoint: token exchange, expiring offline tokens with rotating refresh tokens, one
  refreshable token per app+store, migration of non-expiring tokens (§1.6, §1.7) — `oauth`;
- webhooks: headers, HMAC, 5 s timeout, retries with the original payload and the same ids,
  duplicates by redelivery or a duplicate subscription (§3.1–§3.3), compliance topics (§3.4),
  ``app/uninstalled`` revoking every token (§3.5) — `webhooks`, `store`;
- REST-shaped Order / Refund / Shop payloads with money sets, 64-bit ids, refund-line numbers
  (§4) — `payloads`;
- the Admin GraphQL calls Kanta makes — ``discountCodeBasicCreate``,
  ``discountCodeFreeShippingCreate``, ``storeCreditAccountCredit``, ``codeDiscountNodeByCode``,
  ``metafieldsSet`` (with ``$app:`` namespaces and ``compareDigest``), ``customer`` (with its
  store-credit accounts), ``shop`` (plan and billing country, set per shop with
  ``DevStore.set_shop_plan``), ``collections`` (the catalogue's two) — with the cost-based leaky
  bucket, ``THROTTLED`` errors and forced failures including a lost answer (§5) — `graphql`,
  `graphql_rewards`;
- a storefront, an order desk, a checkout page running the app's Functions with Node
  (`checkout_functions`) and a stand-in admin embedding the app (`web`).

What is not: the authorization-code grant, webhook subscription management APIs (Kanta's
subscriptions are fixed, §3.6), API version fall-forward (§3.7), REST Admin API, checkout UI
extensions themselves (the checkout page shows the app's widget script instead; §6),
subscription deletion after sustained failure, real GraphQL parsing or selection sets (answers
always carry the full documented shape), and the 48 h delay of ``shop/redact`` (sent on demand
instead).
"""

from devstore.graphql import GraphQLResponse, handle_graphql
from devstore.oauth import handle_access_token_request
from devstore.payloads import (
    LineSpec,
    apply_refund,
    build_app_uninstalled,
    build_cancelled_order,
    build_customer,
    build_customers_data_request,
    build_customers_redact,
    build_order,
    build_refund,
    build_shop,
    build_shop_redact,
)
from devstore.signing import (
    mint_admin_session_token,
    mint_checkout_session_token,
    sign_webhook,
    webhook_headers,
)
from devstore.store import (
    DELIVERY_OPTIONS,
    PAYMENT_METHODS,
    DeliveryOption,
    DevStore,
    PaymentMethod,
    WebhookEvent,
)
from devstore.web import admin_host_param, app_load_url, create_devstore_app
from devstore.webhooks import DEFAULT_TOPICS, Attempt, Delivery, WebhookSender

__all__ = [
    "DEFAULT_TOPICS",
    "DELIVERY_OPTIONS",
    "PAYMENT_METHODS",
    "Attempt",
    "Delivery",
    "DeliveryOption",
    "DevStore",
    "GraphQLResponse",
    "LineSpec",
    "PaymentMethod",
    "WebhookEvent",
    "WebhookSender",
    "admin_host_param",
    "app_load_url",
    "apply_refund",
    "build_app_uninstalled",
    "build_cancelled_order",
    "build_customer",
    "build_customers_data_request",
    "build_customers_redact",
    "build_order",
    "build_refund",
    "build_shop",
    "build_shop_redact",
    "create_devstore_app",
    "handle_access_token_request",
    "handle_graphql",
    "mint_admin_session_token",
    "mint_checkout_session_token",
    "sign_webhook",
    "webhook_headers",
]

"""Webhook intake: ``POST /webhooks`` receives every topic (``X-Shopify-Topic`` decides).

verify (HMAC over the raw bytes, first, with the standard library) → parse once, clean and
guard (``webhooks.payload``) → find the shop → record the delivery once →
dispatch to the topic's handler in ``webhooks.handlers`` → commit → 200. Status semantics, as
Shopify's own libraries: 400 missing headers or unreadable body, 401 bad HMAC, 404 unknown shop,
413 too large, 5xx on an internal failure so that Shopify retries (nothing is half-written: the
receipt and the handler's writes share one transaction).
"""

from .intake import bp

__all__ = ["bp"]

"""The widget API: what checkout, thank-you, order-status and customer-account extensions call.

``api`` has the endpoints (CORS for any origin: extensions run on Shopify's domains), ``auth``
the session-token check, ``loyalty`` the hot read behind ``GET /api/checkout/loyalty``,
``redeem`` the redemption operation, ``cache`` the few seconds of per-process memory.
"""

from .api import bp

__all__ = ["bp"]

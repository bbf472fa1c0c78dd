"""Webhook intake: ``POST /webhooks`` receives every topic (``X-Shopify-Topic`` decides).

verify (HMAC over the raw bytes, first, with the standard library) → parse once, clean and
guard (``webhooks.payload``) → find the shop → record the delivery once →
dispatch to the topic's handler in ``webhooks.handlers`` → commit → 200. Status semantics, as
Shopify's own libraries: 400 missing headers or unreadable body, 401 bad HMAC, 404 unknown shop,
413 too large, 5xx on an internal failure so that Shopify retries (nothing is half-written: the
receipt and the handler's writes share one transaction).
"""

from flask import Flask

from .intake import WebhookIntake, bp


def install(app: Flask) -> None:
    """The route, and the middleware that answers it ahead of Flask (``WebhookIntake``)."""
    app.register_blueprint(bp)
    app.wsgi_app = WebhookIntake(app.wsgi_app, app.extensions["kanta"])  # type: ignore[method-assign]


__all__ = ["WebhookIntake", "bp", "install"]

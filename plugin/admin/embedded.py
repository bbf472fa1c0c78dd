"""Embedded admin pages: how a document request from the Shopify admin becomes a rendered page.

Every page (``/``, ``/program``, ``/members``…) is a document request carrying App Bridge's
session token as the ``id_token`` query parameter. ``shopifyapp`` verifies it, or answers with a
redirect to the patch-ID-token page when it is missing or stale (so a plain link inside the app,
which carries ``shop``/``host`` but no token, gets a fresh one and reloads). A shop without a
usable offline token is installed right here by token exchange (reference §1.6, §1.8).

``embedded_page`` wraps a view: the view receives the verified ``AdminPage`` and returns the
page's HTML; the wrapper adds the headers every embedded document needs. ``NAV`` is the app's
navigation (``<ui-nav-menu>`` in the Shopify admin, an in-frame bar in the demo).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Response, render_template, request
from sqlalchemy import select

from ..auth import PATCH_ID_TOKEN_PATH, is_admin_session
from ..install import install_from_id_token, token_state
from ..models import Shop
from ..runtime import kanta
from ..shopify.gateway import InvalidIdToken, ShopifyError, is_valid_shop_domain

log = logging.getLogger(__name__)

# (label, path): the first is the app's home (rel="home" in ui-nav-menu, not listed by Shopify).
NAV: tuple[tuple[str, str], ...] = (
    ("Home", "/"),
    ("Program", "/program"),
    ("Members", "/members"),
    ("Analytics", "/analytics"),
    ("Segments", "/segments"),
    ("Import", "/import"),
    ("Data requests", "/data-requests"),
)


@dataclass(frozen=True)
class AdminPage:
    """A verified embedded document request: whose admin, which staff user."""

    shop_domain: str
    user_id: str | None
    response_headers: dict[str, str]

    def url(self, path: str, **params: str | int | None) -> str:
        """A link inside the app: keeps ``shop``/``host``/``embedded`` so the next document
        request can be verified (it gets a fresh ID token through the patch page)."""
        query: dict[str, str] = {"embedded": "1", "shop": self.shop_domain}
        host = request.args.get("host")
        if host:
            query["host"] = host
        query.update({k: str(v) for k, v in params.items() if v is not None and v != ""})
        return f"{path}?{urlencode(query)}"


def request_input() -> dict[str, Any]:
    return {
        "method": request.method,
        "headers": dict(request.headers),
        "url": request.url,
        "body": "",
    }


def respond(res: Any) -> Response:
    """A ``shopifyapp`` ``Res`` as a Flask response."""
    return Response(res.body, status=res.status, headers=dict(res.headers))


def verify_document_request() -> AdminPage | Response:
    """The verified caller of an embedded page, or the response to send instead."""
    k = kanta()
    result = k.shopify.app.verify_app_home_req(
        request_input(),  # type: ignore[arg-type]
        app_home_patch_id_token_path=PATCH_ID_TOKEN_PATH,
    )
    if not result.ok or not result.shop or result.id_token is None:
        return respond(result.response)
    if not is_admin_session(result.id_token.claims):
        # A checkout or other extension token: valid, but not the merchant's admin session.
        return Response("Unauthorized", status=401, mimetype="text/plain")
    domain = f"{result.shop}.myshopify.com"
    if not is_valid_shop_domain(domain):
        return Response("Unknown shop", status=400, mimetype="text/plain")

    with k.db.read() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == domain)).one_or_none()
        needs_install = shop is None or not token_state(shop).is_live(k.now())
    if needs_install:
        try:
            install_from_id_token(k, result.id_token)
        except InvalidIdToken:
            # Shopify refused the token after all: send the browser for a fresh one.
            return respond(result.invalid_token_response or result.response)
        except ShopifyError as error:
            log.warning("install of %s failed: %s", domain, error.code)
            return document(
                render_template("install_failed.html", shop=domain, demo=k.settings.demo),
                domain,
                status=502,
            )
    return AdminPage(domain, result.user_id, dict(result.response.headers))


def embedded_page(view: Callable[..., str | Response]) -> Callable[..., Response]:
    """Verify the document request, call ``view(page, **route_args)``, send it embedded."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        page = verify_document_request()
        if isinstance(page, Response):
            return page
        body = view(page, *args, **kwargs)
        if isinstance(body, Response):
            return body
        return document(body, page.shop_domain, extra_headers=page.response_headers)

    return wrapper


def render_page(template: str, page: AdminPage, *, active: str, **context: Any) -> str:
    """Render an admin page with what the layout (base.html) needs: nav, App Bridge, demo."""
    settings = kanta().settings
    nav = [
        {"label": label, "url": page.url(path), "path": path, "current": path == active}
        for label, path in NAV
    ]
    return render_template(
        template,
        page=page,
        nav=nav,
        demo=settings.demo,
        api_key=settings.api_key,
        shop_domain=page.shop_domain,
        **context,
    )


def document(
    body: str, shop_domain: str, *, status: int = 200, extra_headers: dict[str, str] | None = None
) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    for name, value in (extra_headers or {}).items():
        # The preload hints name Shopify's CDN; the demo runs offline, so they go too.
        if name.lower() == "link" and kanta().settings.demo:
            continue
        response.headers[name] = value
    response.headers["Content-Security-Policy"] = frame_ancestors(shop_domain)
    response.headers["Cache-Control"] = "no-store"
    return response


def frame_ancestors(shop_domain: str) -> str:
    """Only the shop's admin may frame the app (plus the local demo admin in demo mode)."""
    ancestors = [f"https://{shop_domain}", "https://admin.shopify.com"]
    settings = kanta().settings
    if settings.demo:
        parts = urlsplit(settings.app_url)
        ancestors.append(f"{parts.scheme}://{parts.netloc}")
    return "frame-ancestors " + " ".join(ancestors) + ";"

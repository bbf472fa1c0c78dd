"""The app home: the page Shopify's admin loads first in its iframe, and ``/healthz``.

``GET /`` with Shopify's query parameters is an embedded document request (verified, and the
shop installed if needed, by ``embedded``). Without any of them a person opened the app's own
URL: the first-contact page says where Kanta really opens (the demo store, or the Shopify
admin). The patch-ID-token page, where ``shopifyapp`` sends a request without a valid token,
is served here too.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import func, select, text

from ..auth import PATCH_ID_TOKEN_PATH
from ..loyalty.program import ProgramError, ProgramSettings
from ..models import Customer, Reward, Shop
from ..runtime import Kanta, kanta
from ..shopify.gateway import is_valid_shop_domain
from .embedded import AdminPage, document, embedded_page, render_page, request_input, respond

log = logging.getLogger(__name__)

bp = Blueprint("app_home", __name__)

RECENT_MEMBERS = 25


# Query parameters the Shopify admin puts on every app load (and our in-app links keep).
SHOPIFY_PARAMS = ("shop", "id_token", "host", "embedded")


@bp.get("/")
def app_home() -> Response:
    if not any(name in request.args for name in SHOPIFY_PARAMS):
        # Someone opened the app's own URL: not a page the Shopify admin loads.
        return first_contact()
    return _home()


@embedded_page
def _home(page: AdminPage) -> str:
    return render_page("app_home.html", page, active="/", **_home_context(kanta(), page))


def first_contact() -> Response:
    """What a person who opens Kanta's URL directly should do instead."""
    settings = kanta().settings
    body = render_template(
        "first_contact.html", demo=settings.demo, app_url=settings.app_url, nav=None
    )
    response = Response(body, status=200, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(PATCH_ID_TOKEN_PATH)
def patch_id_token() -> Response:
    """Where ``shopifyapp`` sends a document request without a valid ID token: App Bridge gets
    a fresh one and reloads ``shopify-reload`` with it."""
    k = kanta()
    shop = request.args.get("shop", "")
    reload_path = request.args.get("shopify-reload", "")
    if not is_valid_shop_domain(shop) or not _is_local_path(reload_path):
        return Response("Bad Request", status=400, mimetype="text/plain")
    if k.settings.demo:
        # No App Bridge offline: ask the demo admin (our parent frame) for a token instead.
        page = render_template("patch_id_token.html", reload_path=reload_path)
        return document(page, shop)
    result = k.shopify.app.app_home_patch_id_token(request_input())  # type: ignore[arg-type]
    return respond(result.response)


def _is_local_path(path: str) -> bool:
    """Only a path on this app: anything a browser could read as another host ("//host",
    "/\\host", or those hidden behind tabs and newlines, which browsers strip) would carry a
    fresh ID token away."""
    if not path.startswith("/") or any(ch.isspace() or ord(ch) < 0x20 for ch in path):
        return False
    return not path.startswith(("//", "/\\")) and not urlsplit(path).netloc


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        with kanta().db.read() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not ready"; the reason goes to the log
        log.exception("health check: database unreachable")
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"}), 200


def _home_context(k: Kanta, page: AdminPage) -> dict[str, Any]:
    """Everything the page shows, each query scoped by the shop."""
    domain = page.shop_domain
    with k.db.read() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == domain)).one()
        try:
            program = ProgramSettings.from_dict(shop.program)
        except ProgramError:
            log.warning("stored program of %s is invalid; showing defaults", domain)
            program = ProgramSettings()
        member_count = session.scalar(
            select(func.count(Customer.id)).where(
                Customer.shop_id == shop.id, Customer.is_member.is_(True)
            )
        )
        recent = list(
            session.scalars(
                select(Customer)
                .where(
                    Customer.shop_id == shop.id,
                    Customer.is_member.is_(True),
                    Customer.shopify_customer_id.is_not(None),
                )
                .order_by(Customer.member_since.desc(), Customer.id.desc())
                .limit(RECENT_MEMBERS)
            )
        )
        rewards = list(
            session.scalars(
                select(Reward)
                .where(Reward.shop_id == shop.id, Reward.active.is_(True))
                .order_by(Reward.points_cost, Reward.id)
            )
        )
        members = [
            {
                "customer_id": str(c.shopify_customer_id),
                "url": page.url(f"/members/{c.shopify_customer_id}"),
                "email": c.email or "(no email)",
                "name": " ".join(p for p in (c.first_name, c.last_name) if p),
                "tier": program.tier_by_key(c.tier_key).name,
                "points": c.points_balance,
                "pending": c.pending_points,
            }
            for c in recent
        ]
        for m in members:
            name = f" · {m['name']}" if m["name"] else ""
            m["cells"] = [f"{m['email']}{name}", m["tier"], m["points"], m["pending"]]
        return {
            "earn_summary": _earn_summary(program, shop.currency),
            "award_summary": _award_summary(program),
            "shop_name": shop.name or shop.domain,
            "currency": shop.currency,
            "program": program,
            "rewards": rewards,
            "member_count": member_count or 0,
            "members": members,
        }


@bp.app_template_filter("plain_number")
def plain_number(value: Decimal) -> str:
    """``Decimal("1.50")`` → ``1.5``, ``Decimal("10")`` → ``10`` (never ``1E+1``)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _earn_summary(program: ProgramSettings, currency: str) -> str:
    rate = program.earn_rate
    unit = "point" if rate == 1 else "points"
    excluded = [
        name
        for name, included in (("shipping", program.include_shipping), ("tax", program.include_tax))
        if not included
    ]
    text = f"{plain_number(rate)} {unit} per 1 {currency} spent"
    return text + (f", excluding {' and '.join(excluded)}" if excluded else "")


def _award_summary(program: ProgramSettings) -> str:
    text = f"when the order is {program.award_on}"
    days = program.pending_days
    if days:
        return f"{text}, spendable after {days} day{'' if days == 1 else 's'} pending"
    return f"{text}, spendable at once (no pending period)"

"""The embedded app home: the page Shopify's admin loads in its iframe, and ``/healthz``.

``GET /`` is a document request carrying an ``id_token`` query parameter (App Bridge's session
token). ``shopifyapp`` verifies it, or redirects to the patch-ID-token page (served here too)
when it is missing or stale. A shop without a usable offline token — first load, reinstall
after uninstall, dead refresh token — is installed right here by token exchange (reference
§1.6, §1.8). The page itself is server-rendered; its JS only fetches member details from
``/api/admin`` with fresh session tokens.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import func, select, text

from ..auth import PATCH_ID_TOKEN_PATH, is_admin_session, public_url, token_shape_ok
from ..install import install_from_id_token, token_state
from ..loyalty.program import ProgramError, ProgramSettings
from ..models import Customer, Reward, Shop
from ..runtime import Kanta, kanta
from ..shopify.gateway import InvalidIdToken, ShopifyError, is_valid_shop_domain

log = logging.getLogger(__name__)

bp = Blueprint("app_home", __name__)

RECENT_MEMBERS = 25


def _request_input() -> dict[str, Any]:
    return {
        "method": request.method,
        "headers": dict(request.headers),
        "url": public_url(),
        "body": "",
    }


def _respond(res: Any) -> Response:
    """A ``shopifyapp`` ``Res`` as a Flask response."""
    return Response(res.body, status=res.status, headers=dict(res.headers))


@bp.get("/")
def app_home() -> Response:
    k = kanta()
    if not token_shape_ok(request.args.get("id_token", "")):
        return Response("Unauthorized", status=401, mimetype="text/plain")
    result = k.shopify.app.verify_app_home_req(
        _request_input(),  # type: ignore[arg-type]
        app_home_patch_id_token_path=PATCH_ID_TOKEN_PATH,
    )
    if not result.ok or not result.shop or result.id_token is None:
        return _respond(result.response)
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
            return _respond(result.invalid_token_response or result.response)
        except ShopifyError as error:
            log.warning("install of %s failed: %s", domain, error.code)
            return _document(
                render_template("install_failed.html", shop=domain, demo=k.settings.demo),
                domain,
                status=502,
            )

    page = render_template("app_home.html", **_home_context(k, domain))
    return _document(page, domain, extra_headers=result.response.headers)


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
        return _document(page, shop)
    result = k.shopify.app.app_home_patch_id_token(_request_input())  # type: ignore[arg-type]
    return _respond(result.response)


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


def _document(
    body: str, shop_domain: str, *, status: int = 200, extra_headers: dict[str, str] | None = None
) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    for name, value in (extra_headers or {}).items():
        # The preload hints name Shopify's CDN; the demo runs offline, so they go too.
        if name.lower() == "link" and kanta().settings.demo:
            continue
        response.headers[name] = value
    response.headers["Content-Security-Policy"] = _frame_ancestors(shop_domain)
    response.headers["Cache-Control"] = "no-store"
    return response


def _frame_ancestors(shop_domain: str) -> str:
    """Only the shop's admin may frame the app (plus the local demo admin in demo mode)."""
    ancestors = [f"https://{shop_domain}", "https://admin.shopify.com"]
    settings = kanta().settings
    if settings.demo:
        parts = urlsplit(settings.app_url)
        ancestors.append(f"{parts.scheme}://{parts.netloc}")
    return "frame-ancestors " + " ".join(ancestors) + ";"


def _home_context(k: Kanta, domain: str) -> dict[str, Any]:
    """Everything the page shows, each query scoped by the shop."""
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
                "email": c.email or "(no email)",
                "name": " ".join(p for p in (c.first_name, c.last_name) if p),
                "tier": program.tier_by_key(c.tier_key).name,
                "points": c.points_balance,
                "pending": c.pending_points,
            }
            for c in recent
        ]
        return {
            "earn_summary": _earn_summary(program, shop.currency),
            "award_summary": _award_summary(program),
            "demo": k.settings.demo,
            "api_key": k.settings.api_key,
            "shop_domain": shop.domain,
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

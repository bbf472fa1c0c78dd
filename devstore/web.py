"""The devstore web server: Shopify's two API endpoints Kanta calls, plus the demo pages.

API (reached by Kanta through its URL-rewriting HTTP client, ``https://{shop}/...`` →
``{devstore}/{shop}/...``):

- ``POST /<shop>/admin/oauth/access_token`` — token exchange and refresh (`devstore.oauth`);
- ``POST /<shop>/admin/api/<version>/graphql.json`` — Admin GraphQL (`devstore.graphql`).

Pages (server-rendered, forms POST and redirect back):

- ``/`` — the storefront and order desk: check out carts, refund, cancel, fulfil, and watch the
  webhook delivery log (with redelivery);
- ``/admin`` — a stand-in Shopify admin embedding Kanta in an iframe the way the real admin loads
  an app (``embedded``, ``shop``, ``host``, ``id_token``, ``timestamp``, ``locale``, ``hmac``),
  with a tiny App Bridge stand-in answering ``postMessage`` ID-token requests from the iframe;
- ``/admin/id-token`` — a fresh admin session token as JSON;
- ``/checkout`` — a checkout page: the cart keeps its customer between orders, the payment and
  delivery lists are what the app's Functions make of them (``checkout_functions``), and the
  app's widget (its script, served by the app) calls the app's API with a checkout session
  token from ``/checkout/session-token`` (what ``shopify.sessionToken.get()`` gives an
  extension).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Flask,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from devstore.checkout_page import register_checkout_pages
from devstore.graphql import handle_graphql
from devstore.oauth import handle_access_token_request
from devstore.signing import mint_admin_session_token
from devstore.store import DevStore
from devstore.webhooks import WebhookSender

__all__ = ["admin_host_param", "app_load_url", "create_devstore_app"]

CURRENCIES = ("USD", "EUR", "GBP", "CAD")


def admin_host_param(shop_domain: str) -> str:
    """The ``host`` query parameter: base64 of ``admin.shopify.com/store/<name>``, unpadded."""
    name = shop_domain.removesuffix(".myshopify.com")
    return base64.b64encode(f"admin.shopify.com/store/{name}".encode()).decode().rstrip("=")


def app_load_url(store: DevStore, *, app_url: str, shop_domain: str) -> str:
    """The URL the admin loads in the app iframe, signed like Shopify's (query ``hmac``)."""
    params = {
        "embedded": "1",
        "host": admin_host_param(shop_domain),
        "id_token": mint_admin_session_token(
            shop_domain, store.api_key, store.api_secret, now=store.now()
        ),
        "locale": "en",
        "session": secrets.token_hex(32),
        "shop": shop_domain,
        "timestamp": str(int(store.now().timestamp())),
    }
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["hmac"] = hmac.new(
        store.api_secret.encode(), message.encode(), hashlib.sha256
    ).hexdigest()
    return f"{app_url.rstrip('/')}/?{urlencode(params)}"


def _decimal(raw: str | None) -> Decimal:
    try:
        value = Decimal((raw or "0").strip() or "0")
    except InvalidOperation:
        raise ValueError(f"not an amount: {raw!r}") from None
    if value < 0:
        raise ValueError("amounts cannot be negative")
    return value


def _int(raw: str | None) -> int:
    try:
        return int((raw or "0").strip() or "0")
    except ValueError:
        raise ValueError(f"not a whole number: {raw!r}") from None


def create_devstore_app(
    store: DevStore, sender: WebhookSender, *, app_url: str, api_key: str, api_secret: str
) -> Flask:
    """Build the devstore Flask app. Connects ``store`` to ``sender`` so queued webhooks go out."""
    if (api_key, api_secret) != (store.api_key, store.api_secret):
        raise ValueError("the store and the web app must use the same app credentials")
    app = Flask(__name__)
    app.secret_key = secrets.token_hex(32)  # flash messages only; a restart may drop them
    store.connect_webhooks(sender.send)
    app_origin = "{0.scheme}://{0.netloc}".format(urlsplit(app_url))

    @app.template_filter("app_answer")
    def app_answer(body: str) -> str:
        """What the app said about a delivery, for the log ("ok", "duplicate delivery"...)."""
        try:
            data = json.loads(body)
        except ValueError:
            return body[:80]
        status = data.get("status") if isinstance(data, dict) else None
        return status[:80] if isinstance(status, str) else body[:80]

    @app.template_filter("readable_json")
    def readable_json(value: object) -> str:
        """JSON as a person reads it: "Local delivery · your usual", not "\\u00b7" (Jinja's
        ``tojson`` escapes every non-ASCII character; autoescaping keeps this HTML-safe)."""
        return json.dumps(value, ensure_ascii=False)

    def current_shop() -> str:
        shop = request.values.get("shop") or store.default_shop
        if shop not in store.shop_domains():
            raise ValueError(f"no such shop: {shop}")
        return shop

    def back(endpoint: str = "storefront") -> BaseResponse:
        return redirect(url_for(endpoint, shop=request.values.get("shop") or None))

    # ---------------------------------------------------------------- Shopify API endpoints

    @app.post("/<shop_domain>/admin/oauth/access_token")
    def access_token(shop_domain: str) -> tuple[Response, int]:
        params: dict[str, Any]
        if request.is_json:
            body = request.get_json(silent=True)
            params = body if isinstance(body, dict) else {}
        else:
            params = request.form.to_dict()
        status, payload = handle_access_token_request(store, shop_domain, params)
        return jsonify(payload), status

    @app.post("/<shop_domain>/admin/api/<version>/graphql.json")
    def graphql(shop_domain: str, version: str) -> tuple[Response, int]:
        token = request.headers.get("X-Shopify-Access-Token")
        result = handle_graphql(store, shop_domain, token, request.get_json(silent=True))
        return jsonify(result.body), result.status

    # ---------------------------------------------------------------- storefront

    @app.get("/")
    def storefront() -> str:
        shop = current_shop()
        return render_template(
            "storefront.html",
            shop=shop,
            shops=store.shop_domains(),
            installed=store.is_installed(shop),
            customers=store.customers(shop),
            products=store.products(shop),
            payment_methods=store.payment_methods(),
            delivery_options=store.delivery_options(),
            currencies=CURRENCIES,
            orders=store.orders(shop),
            deliveries=sender.deliveries()[:60],
        )

    @app.post("/orders")
    def place_order() -> BaseResponse:
        try:
            shop = current_shop()
            items = [
                (int(name.removeprefix("qty_")), _int(value))
                for name, value in request.form.items()
                if name.startswith("qty_") and _int(value) > 0
            ]
            customer = request.form.get("customer_id") or None
            pos = request.form.get("pos") == "on"
            order = store.place_order(
                customer_id=int(customer) if customer else None,
                items=items,
                payment_method=request.form.get("payment_method", ""),
                delivery_option=None if pos else (request.form.get("delivery_option") or None),
                discount_code=(request.form.get("discount_code") or "").strip() or None,
                source_name="pos" if pos else "web",
                test=request.form.get("test") == "on",
                presentment_currency=request.form.get("presentment_currency") or None,
                tip=_decimal(request.form.get("tip")),
                shop_domain=shop,
            )
            flash(f"Order {order['name']} placed: {order['total_price']} {order['currency']}.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not place the order: {exc}", "error")
        return back()

    @app.post("/orders/<int:order_id>/refund")
    def refund(order_id: int) -> BaseResponse:
        try:
            lines = [
                (int(name.removeprefix("refund_")), _int(value))
                for name, value in request.form.items()
                if name.startswith("refund_") and _int(value) > 0
            ]
            result = store.refund_order(order_id, lines, _decimal(request.form.get("shipping")))
            amount = sum((Decimal(t["amount"]) for t in result["transactions"]), Decimal(0))
            flash(f"Refunded {amount}.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not refund: {exc}", "error")
        return back()

    @app.post("/orders/<int:order_id>/refund-amount")
    def refund_amount(order_id: int) -> BaseResponse:
        try:
            amount = _decimal(request.form.get("amount"))
            store.refund_amount(order_id, amount, note=request.form.get("note") or None)
            flash(f"Refunded {amount} without naming a line.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not refund: {exc}", "error")
        return back()

    @app.post("/orders/<int:order_id>/edit")
    def edit(order_id: int) -> BaseResponse:
        try:
            add_item = _int(request.form.get("add_item"))
            add = [(add_item, _int(request.form.get("add_qty")))] if add_item else []
            remove = [
                (int(name.removeprefix("remove_")), _int(value))
                for name, value in request.form.items()
                if name.startswith("remove_") and _int(value) > 0
            ]
            order = store.edit_order(
                order_id, add=add, remove=remove, collect=request.form.get("collect") == "on"
            )
            flash(f"Order {order['name']} edited: now {order['current_total_price']}.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not edit: {exc}", "error")
        return back()

    @app.post("/orders/<int:order_id>/exchange")
    def exchange(order_id: int) -> BaseResponse:
        try:
            order = store.exchange(
                order_id,
                _int(request.form.get("line_id")),
                max(_int(request.form.get("units")), 1),
                _int(request.form.get("item")),
            )
            flash(f"Order {order['name']}: exchanged.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not exchange: {exc}", "error")
        return back()

    @app.post("/orders/wholesale")
    def wholesale() -> BaseResponse:
        try:
            order = store.place_wholesale_order(
                customer_id=_int(request.form.get("customer_id")), shop_domain=current_shop()
            )
            flash(f"Wholesale order {order['name']}: {len(order['line_items'])} lines.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not place the wholesale order: {exc}", "error")
        return back()

    @app.post("/orders/<int:order_id>/cancel")
    def cancel(order_id: int) -> BaseResponse:
        try:
            order = store.cancel_order(order_id, reason=request.form.get("reason") or "customer")
            flash(f"Order {order['name']} cancelled and refunded.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not cancel: {exc}", "error")
        return back()

    @app.post("/orders/<int:order_id>/fulfil")
    def fulfil(order_id: int) -> BaseResponse:
        try:
            order = store.fulfill_order(order_id)
            flash(f"Order {order['name']} fulfilled.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not fulfil: {exc}", "error")
        return back()

    @app.post("/deliveries/<delivery_id>/redeliver")
    def redeliver(delivery_id: str) -> BaseResponse:
        try:
            delivery = sender.redeliver(delivery_id)
            flash(f"Redelivered {delivery.topic} with the same webhook id {delivery.webhook_id}.")
        except KeyError:
            flash("That delivery is no longer in the log.", "error")
        return back()

    # ---------------------------------------------------------------- admin

    @app.get("/admin")
    def admin() -> str:
        shop = current_shop()
        installed = store.is_installed(shop)
        return render_template(
            "admin.html",
            shop=shop,
            shops=store.shop_domains(),
            installed=installed,
            customers=store.customers(shop),
            app_src=app_load_url(store, app_url=app_url, shop_domain=shop) if installed else None,
            app_origin=app_origin,
            deliveries=sender.deliveries()[:20],
        )

    @app.get("/admin/id-token")
    def id_token() -> Response:
        shop = current_shop()
        token = mint_admin_session_token(shop, api_key, api_secret, now=store.now())
        response = jsonify({"token": token})
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/admin/uninstall")
    def uninstall() -> BaseResponse:
        store.uninstall_app(current_shop())
        flash("Kanta uninstalled: its tokens are revoked and app/uninstalled was sent.")
        return back("admin")

    @app.post("/admin/install")
    def install() -> BaseResponse:
        store.install_app(current_shop())
        flash("Kanta installed. Opening it performs token exchange again.")
        return back("admin")

    @app.post("/admin/compliance")
    def compliance() -> BaseResponse:
        shop = current_shop()
        kind = request.form.get("kind")
        try:
            if kind == "shop/redact":
                store.request_shop_redact(shop)
            else:
                customer_id = int(request.form.get("customer_id") or 0)
                if kind == "customers/redact":
                    store.request_customer_redact(customer_id, shop)
                elif kind == "customers/data_request":
                    store.request_customer_data(customer_id, shop)
                else:
                    raise ValueError(f"unknown compliance topic {kind!r}")
            flash(f"Sent {kind}.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not send: {exc}", "error")
        return back("admin")

    @app.get("/devstore/state.json")
    def state() -> Response:
        """A machine-readable view for end-to-end tests and scripts."""
        shop = current_shop()
        return jsonify(
            {
                "shop": shop,
                "installed": store.is_installed(shop),
                "refresh_count": store.refresh_count(shop),
                "orders": [rec["order"] for rec in store.orders(shop)],
                "deliveries": [
                    {
                        "id": d.id,
                        "topic": d.topic,
                        "shop": d.shop_domain,
                        "state": d.state,
                        "webhook_id": d.webhook_id,
                        "event_id": d.event_id,
                        "status_codes": d.status_codes,
                    }
                    for d in sender.deliveries()
                ],
            }
        )

    register_checkout_pages(
        app, store, app_url=app_url, api_key=api_key, api_secret=api_secret, parse_int=_int
    )

    @app.errorhandler(ValueError)
    def bad_request(exc: ValueError) -> tuple[str, int]:
        return render_template("error.html", message=str(exc)), 400

    return app

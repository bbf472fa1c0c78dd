"""The devstore's checkout page (``/checkout``): a cart that keeps its shopper between orders, the
payment and delivery lists as the app's Functions leave them (``checkout_functions``), and the
app's widget script calling the app's API with a checkout session token from
``/checkout/session-token`` (what ``shopify.sessionToken.get()`` gives an extension).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Flask,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from devstore.checkout_functions import buyer, checkout_lists
from devstore.graphql import resolve_namespace
from devstore.signing import mint_checkout_session_token
from devstore.store import DevStore


def register_checkout_pages(
    app: Flask,
    store: DevStore,
    *,
    app_url: str,
    api_key: str,
    api_secret: str,
    parse_int: Callable[[str | None], int],
) -> None:
    def current_shop() -> str:
        shop = request.values.get("shop") or store.default_shop
        if shop not in store.shop_domains():
            raise ValueError(f"no such shop: {shop}")
        return shop

    def cart_customer(shop: str) -> int | None:
        """The cart's customer: chosen once, kept (per shop) for the next orders."""
        chosen = request.args.get("customer_id")
        if chosen is not None:
            session[f"cart_customer:{shop}"] = int(chosen) if chosen.isdigit() else None
        raw = session.get(f"cart_customer:{shop}")
        if isinstance(raw, int) and store.customer(raw, shop) is not None:
            return raw
        return None

    @app.get("/checkout")
    def checkout() -> str:
        shop = current_shop()
        customer_id = cart_customer(shop)
        metafield = None
        if customer_id is not None:
            found = store.find_metafield(
                shop,
                f"gid://shopify/Customer/{customer_id}",
                resolve_namespace(store, "$app:kanta"),
                "preferences",
            )
            metafield = found["value"] if found else None
        currency = store.shop_resource(shop)["currency"]
        shopper = buyer(customer_id, metafield)
        lists = checkout_lists(store.payment_methods(), store.delivery_options(), currency, shopper)
        products = store.products(shop)
        teapot = next(p for p in products if p["title"] == "Cast Iron Teapot")
        return render_template(
            "checkout.html",
            shop=shop,
            shops=store.shop_domains(),
            installed=store.is_installed(shop),
            customers=store.customers(shop),
            customer_id=customer_id,
            products=[p for p in products if not p["gift_card"]],
            default_item=teapot["variants"][0]["id"],
            lists=lists,
            metafield=metafield,
            currency=currency,
            app_url=app_url.rstrip("/"),
            deliveries=[],
        )

    @app.get("/checkout/session-token")
    def checkout_session_token() -> Response:
        shop = current_shop()
        token = mint_checkout_session_token(
            shop, api_key, api_secret, customer_id=cart_customer(shop), now=store.now()
        )
        response = jsonify({"token": token})
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/checkout/order")
    def checkout_order() -> BaseResponse:
        shop = current_shop()
        try:
            items = [
                (int(name.removeprefix("qty_")), parse_int(value))
                for name, value in request.form.items()
                if name.startswith("qty_") and parse_int(value) > 0
            ]
            order = store.place_order(
                customer_id=cart_customer(shop),
                items=items,
                payment_method=request.form.get("payment_method", ""),
                delivery_option=request.form.get("delivery_option") or None,
                discount_code=(request.form.get("discount_code") or "").strip() or None,
                shop_domain=shop,
            )
            flash(f"Order {order['name']} placed: {order['total_price']} {order['currency']}.")
        except (KeyError, ValueError) as exc:
            flash(f"Could not place the order: {exc}", "error")
        return redirect(url_for("checkout", shop=request.values.get("shop") or None))

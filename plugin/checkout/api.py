"""``/api/checkout/*``: loyalty (GET), join, redeem, preferences (POST). See issue 10.

Every call carries an extension session token (``auth``); the customer is its ``sub`` and
nothing in the request body or query can name another. Answers: 401 for a bad or expired
token, 403 for a shop that has not installed Kanta (or a guest asking to write), 400 for a bad
body, 422 for a request the program refuses (not enough points, a reused key).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from flask import Blueprint, Response, abort, jsonify, make_response, request
from sqlalchemy import delete, select

from .. import ledger
from ..db import insert_for
from ..loyalty.orders import CustomerFacts
from ..loyalty.preferences import clean_choice
from ..models import Customer, CustomerPreference, Shop
from ..runtime import Kanta, kanta
from .auth import Shopper, shopper
from .loyalty import UNKNOWN_CUSTOMER, LoyaltyReader, ShopView, loyalty_object
from .redeem import redeem_reward

bp = Blueprint("checkout_api", __name__, url_prefix="/api/checkout")

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{8,100}")
MAX_SUBTOTAL = Decimal("1000000000")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Max-Age": "7200",
}


def reader() -> LoyaltyReader:
    k = kanta()
    found = k.extras.get("checkout_reader")
    if found is None:
        found = k.extras["checkout_reader"] = LoyaltyReader(k)
    assert isinstance(found, LoyaltyReader)
    return found


@bp.after_request
def _cors(response: Response) -> Response:
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Cache-Control"] = "no-store"
    if "Vary" in headers:
        response.vary.add("Authorization")
    else:  # the usual case, without parsing a header set
        headers["Vary"] = "Authorization"
    return response


@bp.before_request
def _preflight() -> Response | None:
    # Flask answers OPTIONS itself (200, no CORS headers); the browser's preflight needs these.
    if request.method != "OPTIONS":
        return None
    response = make_response("", 204)
    response.headers.update(CORS_HEADERS)
    return response


def _error(status: int, message: str, **extra: Any) -> Response:
    response: Response = make_response({"error": message, **extra}, status)
    return response


def _installed_shop(caller: Shopper) -> ShopView:
    view = reader().shop(caller.shop_domain)
    if view is None or not view.installed:
        abort(_error(403, "Kanta is not installed on this shop"))
    return view


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(_error(400, "the body must be a JSON object"))
    return body


def _subtotal() -> Decimal | None:
    raw = request.args.get("subtotal")
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        abort(_error(400, "subtotal must be a decimal amount such as 42.50"))
    exponent = value.as_tuple().exponent
    cents_or_coarser = isinstance(exponent, int) and exponent >= -2  # NaN/Infinity: a letter
    if not cents_or_coarser or not 0 <= value <= MAX_SUBTOTAL:
        abort(_error(400, "subtotal must be an amount from 0 with at most 2 decimals"))
    return value


def _answer_for(caller: Shopper, shop: ShopView, subtotal: Decimal | None) -> dict[str, Any]:
    if caller.customer_id is None:
        return loyalty_object(shop, UNKNOWN_CUSTOMER, subtotal, guest=True)
    customer = reader().customer(shop, caller.customer_id)
    return loyalty_object(shop, customer, subtotal, guest=False)


@bp.get("/loyalty")
def loyalty() -> Response:
    caller = shopper()
    shop = _installed_shop(caller)
    # orjson: the same JSON as jsonify (sorted keys, a final newline), in a fraction of the time
    # on checkout's hot path. The object holds only str, int, bool, None, lists and dicts.
    body = orjson.dumps(_answer_for(caller, shop, _subtotal()), option=orjson.OPT_SORT_KEYS)
    return Response(body + b"\n", mimetype="application/json")


def _after_write(k: Kanta, shop: ShopView, caller: Shopper, customer_pk: int) -> None:
    """A write committed: forget the cached read, mirror the change into the metafield."""
    assert caller.customer_id is not None
    reader().forget(shop.id, caller.customer_id)
    k.jobs.enqueue("sync_customer_metafield", shop_id=shop.id, customer_pk=customer_pk)


def _logged_in(caller: Shopper, action: str) -> int:
    if caller.customer_id is None:
        abort(_error(403, f"log in to {action}"))
    return caller.customer_id


@bp.post("/join")
def join() -> Response:
    caller = shopper()
    shop = _installed_shop(caller)
    customer_id = _logged_in(caller, "join")
    body = _json_body()
    consent = body.get("marketing_consent")
    if consent is not None and not isinstance(consent, bool):
        return _error(400, "marketing_consent must be true or false")
    k = kanta()
    with k.db.transaction() as session:
        row = session.get(Shop, shop.id)
        assert row is not None
        customer = ledger.join_program(
            session, row, CustomerFacts(customer_id, None, None, None), consent, k.now()
        )
        customer_pk = customer.id
    _after_write(k, shop, caller, customer_pk)
    return jsonify(_answer_for(caller, shop, _subtotal()))


@bp.post("/redeem")
def redeem() -> Response:
    caller = shopper()
    shop = _installed_shop(caller)
    _logged_in(caller, "redeem points")
    key = request.headers.get("Idempotency-Key", "").strip()
    if not IDEMPOTENCY_KEY.fullmatch(key):
        return _error(
            400, "an Idempotency-Key header of 8 to 100 letters, digits or .:_- is required"
        )
    body = _json_body()
    raw_id = body.get("reward_id")
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or not str(raw_id).isdigit():
        return _error(400, "reward_id must be the id of a reward")
    reward_id = int(raw_id)
    if reward_id > 2**63 - 1:
        return _error(404, "no such reward")
    k = kanta()
    answer = redeem_reward(k, caller, shop.id, reward_id, key)
    if answer.customer_pk is not None:
        _after_write(k, shop, caller, answer.customer_pk)
    response: Response = make_response(answer.body, answer.status)
    return response


@bp.post("/preferences")
def preferences() -> Response:
    caller = shopper()
    shop = _installed_shop(caller)
    customer_id = _logged_in(caller, "remember your choices")
    body = _json_body()
    unknown = set(body) - {"payment_method", "delivery_option", "marketing_consent"}
    if unknown:
        return _error(400, f"unknown field {sorted(unknown)[0]}")
    choices: dict[str, str | None] = {}
    try:
        for field, kind in (("payment_method", "payment"), ("delivery_option", "delivery")):
            if field in body:
                choices[kind] = clean_choice(body[field], field)
    except ValueError as error:
        return _error(400, str(error))
    consent = body.get("marketing_consent")
    if consent is not None and not isinstance(consent, bool):
        return _error(400, "marketing_consent must be true, false or null")
    k = kanta()
    now = k.now()
    with k.db.transaction() as session:
        row = session.get(Shop, shop.id)
        assert row is not None
        customer = ledger.lock_customer(  # holds the shop's row first
            session, row, CustomerFacts(customer_id, None, None, None), now
        )
        if customer is None:
            return _error(403, "this customer's data was erased at the shop's request")
        for kind, value in choices.items():
            _set_chosen(session, shop.id, customer, kind, value, now)
        if consent is not None:
            customer.marketing_consent = consent
            customer.consent_updated_at = now
        customer_pk = customer.id
    _after_write(k, shop, caller, customer_pk)
    return jsonify(_answer_for(caller, shop, _subtotal()))


def _set_chosen(
    session: Any, shop_id: int, customer: Customer, kind: str, value: str | None, now: Any
) -> None:
    """Upsert the shopper's chosen row, or delete it (``value`` None: back to the learned)."""
    where = (
        CustomerPreference.shop_id == shop_id,
        CustomerPreference.customer_id == customer.id,
        CustomerPreference.kind == kind,
        CustomerPreference.source == "chosen",
    )
    if value is None:
        session.execute(delete(CustomerPreference).where(*where))
        return
    # Keep the gateway/code of the same choice when the orders taught it.
    handle = session.scalar(
        select(CustomerPreference.handle).where(
            CustomerPreference.shop_id == shop_id,
            CustomerPreference.customer_id == customer.id,
            CustomerPreference.kind == kind,
            CustomerPreference.source == "learned",
            CustomerPreference.value == value,
        )
    )
    session.execute(
        insert_for(session, CustomerPreference)
        .values(
            shop_id=shop_id,
            customer_id=customer.id,
            kind=kind,
            source="chosen",
            value=value,
            handle=handle,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["shop_id", "customer_id", "kind", "source"],
            set_={"value": value, "handle": handle, "updated_at": now},
        )
    )

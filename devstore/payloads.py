"""Builders for Shopify REST-shaped webhook payloads (orders, refunds, compliance, shop).

Shapes follow reference §4 (Order / Refund resources), §3.4 (compliance bodies) and §3.5 (Shop):

- ids are 64-bit integers above 2**53 (JavaScript loses precision on them, Python must not);
  every resource also carries ``admin_graphql_api_id``;
- money is a decimal *string* with a ``*_set`` twin (``shop_money`` and ``presentment_money``);
  the one documented exception is ``refund_line_items[].subtotal``/``total_tax``, JSON *numbers*;
- timestamps are ISO-8601 with an offset.

Everything is a pure function of its arguments: child ids (line items, shipping lines,
transactions, adjustments) are derived from the parent id with a hash, so the same call returns the
same payload. Amounts are computed as (shop, presentment) pairs so that totals add up exactly in
both currencies.

Deliberate Shopify-isms worth knowing when you consume these payloads:

- ``line_items[].total_discount`` is ``"0.00"``: Shopify leaves it unset for code/automatic
  discounts; the real per-line discount is the sum of ``discount_allocations``.
- The checkout's payment method *name* is not an order field. It is recoverable from
  ``payment_gateway_names`` (``"Cash on Delivery (COD)"``, ``"paypal"``...) and, for Shop Pay, from
  ``payment_details.credit_card_wallet == "shop_pay"``.
- Shipping is not taxed here (simplification); taxes sit on line items only.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "ID_BASE",
    "LineSpec",
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
    "derive_id",
    "money",
]

JSON = dict[str, Any]

#: Every simulated id is at least this big: above 2**53, below 2**63.
ID_BASE = 7_000_000_000_000_000_000
_DERIVED_SPAN = 2_000_000_000_000_000_000
_CENT = Decimal("0.01")
_ZERO = Decimal("0")
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_LOCATION_ID = ID_BASE + 900_001

assert ID_BASE > 2**53
assert ID_BASE + _DERIVED_SPAN < 2**63


def derive_id(parent_id: int, kind: str, index: int = 0) -> int:
    """A stable child id in ``[ID_BASE, ID_BASE + 2e18)`` derived from the parent id."""
    digest = hashlib.sha256(f"{parent_id}:{kind}:{index}".encode()).digest()
    return ID_BASE + int.from_bytes(digest[:8], "big") % _DERIVED_SPAN


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """Shopify's money string: two decimals, no exponent (``Decimal("5")`` → ``"5.00"``)."""
    return format(_cents(value), "f")


def _ts(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; pass a timezone-aware datetime")
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class _Amount:
    """One amount in shop and presentment currency, rounded to cents in each."""

    shop: Decimal
    presentment: Decimal

    def __add__(self, other: _Amount) -> _Amount:
        return _Amount(self.shop + other.shop, self.presentment + other.presentment)

    def __sub__(self, other: _Amount) -> _Amount:
        return _Amount(self.shop - other.shop, self.presentment - other.presentment)

    def __neg__(self) -> _Amount:
        return _Amount(-self.shop, -self.presentment)


_NIL = _Amount(_ZERO, _ZERO)


@dataclass(frozen=True)
class _Currencies:
    shop: str
    presentment: str
    rate: Decimal

    def amount(self, shop_value: Decimal) -> _Amount:
        shop_value = _cents(shop_value)
        return _Amount(shop_value, _cents(shop_value * self.rate))

    def money_set(self, value: _Amount) -> JSON:
        return {
            "shop_money": {"amount": money(value.shop), "currency_code": self.shop},
            "presentment_money": {
                "amount": money(value.presentment),
                "currency_code": self.presentment,
            },
        }


def _total(amounts: list[_Amount]) -> _Amount:
    result = _NIL
    for item in amounts:
        result = result + item
    return result


def _read_amount(money_set: JSON) -> _Amount:
    return _Amount(
        Decimal(money_set["shop_money"]["amount"]),
        Decimal(money_set["presentment_money"]["amount"]),
    )


def _currencies_of(order: JSON) -> _Currencies:
    shop = _read_amount(order["total_price_set"])
    rate = shop.presentment / shop.shop if shop.shop else Decimal(1)
    return _Currencies(order["currency"], order["presentment_currency"], rate)


@dataclass(frozen=True)
class LineSpec:
    """One cart line. ``discount`` is a line-level discount for the whole line, shop currency."""

    title: str
    price: Decimal
    quantity: int = 1
    product_id: int | None = None
    variant_id: int | None = None
    gift_card: bool = False
    discount: Decimal = field(default=_ZERO)
    taxable: bool = True
    sku: str | None = None
    variant_title: str | None = None
    requires_shipping: bool = True


# ---------------------------------------------------------------------------------------------
# Addresses and customers
# ---------------------------------------------------------------------------------------------


def _address(first_name: str, last_name: str, phone: str | None) -> JSON:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "name": f"{first_name} {last_name}".strip(),
        "company": None,
        "address1": "150 Elgin Street",
        "address2": "Suite 800",
        "city": "Ottawa",
        "province": "Ontario",
        "province_code": "ON",
        "country": "Canada",
        "country_code": "CA",
        "zip": "K2P 1L4",
        "phone": phone,
        "latitude": 45.4200832,
        "longitude": -75.6920543,
    }


def build_customer(
    customer_id: int,
    *,
    email: str,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    currency: str = "USD",
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    verified_email: bool = True,
) -> JSON:
    """The REST Customer object as embedded in order payloads (API 2025-01+ field set, §4.1)."""
    created = created_at or _EPOCH
    address = _address(first_name, last_name, phone)
    return {
        "id": customer_id,
        "email": email,
        "created_at": _ts(created),
        "updated_at": _ts(updated_at or created),
        "first_name": first_name,
        "last_name": last_name,
        "state": "enabled",
        "note": None,
        "verified_email": verified_email,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": phone,
        "currency": currency,
        "tax_exemptions": [],
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "default_address": {
            "id": derive_id(customer_id, "address"),
            "customer_id": customer_id,
            **address,
            "country_name": address["country"],
            "default": True,
        },
    }


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------


def _allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` in whole cents; the last share absorbs drift."""
    base = sum(weights, _ZERO)
    if total == 0 or base == 0:
        return [_ZERO for _ in weights]
    shares = [_cents(total * w / base) for w in weights]
    last = max(i for i, w in enumerate(weights) if w > 0)
    shares[last] += _cents(total) - sum(shares, _ZERO)
    return shares


def _tax(net: Decimal, rate: Decimal, taxes_included: bool) -> Decimal:
    if rate == 0:
        return _ZERO
    if taxes_included:
        return _cents(net - net / (1 + rate))
    return _cents(net * rate)


def _payment_details(gateway: str, method_name: str | None) -> JSON | None:
    if gateway != "shopify_payments":
        return None
    return {
        "credit_card_bin": "424242",
        "avs_result_code": None,
        "cvv_result_code": None,
        "credit_card_number": "•••• •••• •••• 4242",
        "credit_card_company": "Visa",
        "credit_card_name": None,
        "credit_card_wallet": "shop_pay" if method_name == "Shop Pay" else None,
        "credit_card_expiration_month": 12,
        "credit_card_expiration_year": 2030,
    }


def build_order(
    *,
    order_id: int,
    shop_domain: str,
    customer: JSON | None,
    lines: list[LineSpec],
    currency: str = "USD",
    presentment_currency: str | None = None,
    exchange_rate: Decimal = Decimal(1),
    order_discount: Decimal = _ZERO,
    discount_code: str | None = None,
    shipping: Decimal = _ZERO,
    shipping_title: str | None = "Standard",
    shipping_code: str | None = None,
    shipping_delivery_category: str | None = None,
    tax_rate: Decimal = _ZERO,
    taxes_included: bool = False,
    tip: Decimal = _ZERO,
    payment_gateway: str = "shopify_payments",
    payment_method_name: str | None = None,
    source_name: str = "web",
    test: bool = False,
    financial_status: str = "paid",
    created_at: datetime | None = None,
    cancelled_at: datetime | None = None,
    cancel_reason: str | None = None,
    order_number: int | None = None,
    email: str | None = None,
    location_id: int | None = None,
    note_attributes: list[JSON] | None = None,
    tags: str = "",
) -> JSON:
    """An Order resource as delivered on ``orders/*`` topics (reference §4.1).

    ``order_discount`` is an order-level code discount (``discount_code``, default ``"DISCOUNT"``)
    spread "across" all non-gift-card lines in proportion to their price after line discounts.
    ``shipping_title=None`` or ``source_name="pos"`` means no shipping line.
    """
    if not lines:
        raise ValueError("an order needs at least one line")
    cur = _Currencies(currency, presentment_currency or currency, Decimal(exchange_rate))
    created = created_at or _EPOCH
    number = order_number if order_number is not None else 1001 + order_id % 1000
    is_pos = source_name == "pos"
    if is_pos and location_id is None:
        location_id = DEFAULT_LOCATION_ID

    # Discount applications: one "explicit" application per line-discounted line, then the
    # order-level "across" code discount. Lines point at them by index.
    applications: list[JSON] = []
    line_app_index: dict[int, int] = {}
    for i, spec in enumerate(lines):
        if spec.discount > 0:
            line_app_index[i] = len(applications)
            applications.append(
                {
                    "target_type": "line_item",
                    "type": "manual",
                    "value": money(spec.discount),
                    "value_type": "fixed_amount",
                    "allocation_method": "one",
                    "target_selection": "explicit",
                    "title": f"{spec.title} discount",
                    "description": f"{spec.title} discount",
                }
            )
    # Shopify converts the unit price, then multiplies: presentment gross = unit × quantity.
    units = [cur.amount(spec.price) for spec in lines]
    gross = [
        _Amount(u.shop * s.quantity, u.presentment * s.quantity)
        for u, s in zip(units, lines, strict=True)
    ]
    line_discount = [cur.amount(spec.discount) for spec in lines]
    weights = [
        _ZERO if spec.gift_card else g.shop - d.shop
        for spec, g, d in zip(lines, gross, line_discount, strict=True)
    ]
    order_share_shop = _allocate(order_discount, weights)
    order_share_pres = _allocate(_cents(_cents(order_discount) * cur.rate), weights)
    order_share = [_Amount(s, p) for s, p in zip(order_share_shop, order_share_pres, strict=True)]
    order_app_index: int | None = None
    code = discount_code or "DISCOUNT"
    discount_codes: list[JSON] = []
    if order_discount > 0:
        order_app_index = len(applications)
        applications.append(
            {
                "target_type": "line_item",
                "type": "discount_code",
                "value": money(order_discount),
                "value_type": "fixed_amount",
                "allocation_method": "across",
                "target_selection": "all",
                "code": code,
            }
        )
        discount_codes.append(
            {"code": code, "amount": money(order_discount), "type": "fixed_amount"}
        )

    line_items: list[JSON] = []
    nets: list[_Amount] = []
    taxes: list[_Amount] = []
    for i, spec in enumerate(lines):
        allocations: list[JSON] = []
        if i in line_app_index:
            allocations.append(
                {
                    "amount": money(line_discount[i].shop),
                    "amount_set": cur.money_set(line_discount[i]),
                    "discount_application_index": line_app_index[i],
                }
            )
        if order_app_index is not None and order_share[i] != _NIL:
            allocations.append(
                {
                    "amount": money(order_share[i].shop),
                    "amount_set": cur.money_set(order_share[i]),
                    "discount_application_index": order_app_index,
                }
            )
        net = gross[i] - line_discount[i] - order_share[i]
        taxable = spec.taxable and not spec.gift_card
        tax = (
            _Amount(
                _tax(net.shop, tax_rate, taxes_included),
                _tax(net.presentment, tax_rate, taxes_included),
            )
            if taxable
            else _NIL
        )
        nets.append(net)
        taxes.append(tax)
        line_id = derive_id(order_id, "line_item", i)
        unit = units[i]
        requires_shipping = spec.requires_shipping and not spec.gift_card
        line_items.append(
            {
                "id": line_id,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                "current_quantity": spec.quantity,
                "fulfillable_quantity": 0 if is_pos else spec.quantity,
                "fulfillment_service": "gift_card" if spec.gift_card else "manual",
                "fulfillment_status": "fulfilled" if is_pos else None,
                "gift_card": spec.gift_card,
                "grams": 0 if spec.gift_card else 250,
                "name": f"{spec.title} - {spec.variant_title}"
                if spec.variant_title
                else spec.title,
                "price": money(unit.shop),
                "price_set": cur.money_set(unit),
                "product_id": spec.product_id,
                "properties": [],
                "quantity": spec.quantity,
                "requires_shipping": requires_shipping and not is_pos,
                "sku": spec.sku,
                "taxable": taxable,
                "title": spec.title,
                "total_discount": "0.00",
                "total_discount_set": cur.money_set(_NIL),
                "variant_id": spec.variant_id,
                "variant_title": spec.variant_title,
                "vendor": "Kanta Demo Goods",
                "tax_lines": (
                    [
                        {
                            "channel_liable": False,
                            "price": money(tax.shop),
                            "price_set": cur.money_set(tax),
                            "rate": float(tax_rate),  # a JSON number in Shopify payloads
                            "title": "Sales Tax",
                        }
                    ]
                    if taxable and tax_rate > 0
                    else []
                ),
                "duties": [],
                "discount_allocations": allocations,
            }
        )

    shipping_lines: list[JSON] = []
    shipping_amount = _NIL
    if not is_pos and shipping_title is not None:
        shipping_amount = cur.amount(shipping)
        ship_id = derive_id(order_id, "shipping_line")
        shipping_lines.append(
            {
                "id": ship_id,
                "carrier_identifier": None,
                "code": shipping_code if shipping_code is not None else shipping_title,
                "delivery_category": shipping_delivery_category,
                "discounted_price": money(shipping_amount.shop),
                "discounted_price_set": cur.money_set(shipping_amount),
                "is_removed": False,
                "phone": None,
                "price": money(shipping_amount.shop),
                "price_set": cur.money_set(shipping_amount),
                "requested_fulfillment_service_id": None,
                "source": "shopify",
                "title": shipping_title,
                "tax_lines": [],
                "discount_allocations": [],
            }
        )

    tip_amount = cur.amount(tip)
    if tip_amount.shop > 0:
        line_items.append(_tip_line(order_id, tip_amount, cur, payment_gateway, is_pos))
    line_items_total = _total(gross)
    discounts_total = _total(line_discount) + _total(order_share)
    subtotal = _total(nets)
    tax_total = _total(taxes)
    total = subtotal + shipping_amount + tip_amount + (_NIL if taxes_included else tax_total)

    first = customer["first_name"] if customer else "Guest"
    last = customer["last_name"] if customer else "Shopper"
    phone = customer.get("phone") if customer else None
    address = _address(first, last, phone)
    order_email = email if email is not None else (customer["email"] if customer else "")
    is_cancelled = cancelled_at is not None
    gid = f"gid://shopify/Order/{order_id}"
    return {
        "id": order_id,
        "admin_graphql_api_id": gid,
        "browser_ip": None if is_pos else "203.0.113.17",
        "buyer_accepts_marketing": False,
        "cancel_reason": cancel_reason,
        "cancelled_at": _ts(cancelled_at) if cancelled_at else None,
        "cart_token": None if is_pos else f"c1-{derive_id(order_id, 'cart'):x}",
        "checkout_id": None if is_pos else derive_id(order_id, "checkout"),
        "closed_at": _ts(cancelled_at) if cancelled_at else None,
        "confirmation_number": f"K{order_id % 100_000_000:08d}",
        "confirmed": True,
        "contact_email": order_email or None,
        "created_at": _ts(created),
        "currency": cur.shop,
        "current_subtotal_price": money(subtotal.shop),
        "current_subtotal_price_set": cur.money_set(subtotal),
        "current_total_discounts": money(discounts_total.shop),
        "current_total_discounts_set": cur.money_set(discounts_total),
        "current_total_duties_set": None,
        "current_total_price": money(total.shop),
        "current_total_price_set": cur.money_set(total),
        "current_total_tax": money(tax_total.shop),
        "current_total_tax_set": cur.money_set(tax_total),
        "customer_locale": "en",
        "discount_codes": discount_codes,
        "email": order_email,
        "financial_status": financial_status,
        "fulfillment_status": "fulfilled" if is_pos else None,
        "landing_site": None if is_pos else "/",
        "location_id": location_id,
        "name": f"#{number}",
        "note": None,
        "note_attributes": note_attributes or [],
        "number": number - 1000,
        "order_number": number,
        "order_status_url": f"https://{shop_domain}/{order_id}/orders/{order_id:x}/authenticate",
        "payment_gateway_names": [payment_gateway],
        "gateway": payment_gateway,
        "payment_details": _payment_details(payment_gateway, payment_method_name),
        "phone": phone,
        "presentment_currency": cur.presentment,
        "processed_at": _ts(created),
        "source_name": source_name,
        "subtotal_price": money(subtotal.shop),
        "subtotal_price_set": cur.money_set(subtotal),
        "tags": tags,
        "tax_exempt": False,
        "tax_lines": (
            [
                {
                    "price": money(tax_total.shop),
                    "rate": float(tax_rate),
                    "title": "Sales Tax",
                    "price_set": cur.money_set(tax_total),
                    "channel_liable": False,
                }
            ]
            if tax_total.shop > 0
            else []
        ),
        "taxes_included": taxes_included,
        "test": test,
        "total_discounts": money(discounts_total.shop),
        "total_discounts_set": cur.money_set(discounts_total),
        "total_line_items_price": money(line_items_total.shop),
        "total_line_items_price_set": cur.money_set(line_items_total),
        "total_outstanding": "0.00" if financial_status == "paid" else money(total.shop),
        "total_price": money(total.shop),
        "total_price_set": cur.money_set(total),
        "total_shipping_price_set": cur.money_set(shipping_amount),
        "total_tax": money(tax_total.shop),
        "total_tax_set": cur.money_set(tax_total),
        "total_tip_received": money(tip_amount.shop),
        "total_weight": 250 * sum(s.quantity for s in lines if not s.gift_card),
        "updated_at": _ts(cancelled_at if is_cancelled and cancelled_at else created),
        "user_id": None,
        "billing_address": address,
        "customer": customer,
        "discount_applications": applications,
        "fulfillments": [],
        "line_items": line_items,
        "refunds": [],
        "shipping_address": None if is_pos else address,
        "shipping_lines": shipping_lines,
    }


def _tip_line(order_id: int, tip: _Amount, cur: _Currencies, gateway: str, is_pos: bool) -> JSON:
    """A tip as Shopify sends it: a line item with a ``tip`` object and no product. At POS (and
    for some wallets online) the tip's gateway is not known: ``payment_gateway`` is null."""
    line_id = derive_id(order_id, "tip")
    return {
        "id": line_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
        "current_quantity": 1,
        "fulfillable_quantity": 0,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": False,
        "grams": 0,
        "name": "Tip",
        "price": money(tip.shop),
        "price_set": cur.money_set(tip),
        "product_exists": False,
        "product_id": None,
        "properties": [],
        "quantity": 1,
        "requires_shipping": False,
        "sku": None,
        "taxable": False,
        "title": "Tip",
        "total_discount": "0.00",
        "total_discount_set": cur.money_set(_NIL),
        "variant_id": None,
        "variant_title": None,
        "vendor": None,
        "tax_lines": [],
        "duties": [],
        "discount_allocations": [],
        "tip": {"payment_gateway": None if is_pos else gateway, "payment_method": None},
        "tip_payment_gateway": None if is_pos else gateway,
    }


# ---------------------------------------------------------------------------------------------
# Refunds and cancellations
# ---------------------------------------------------------------------------------------------


def _line_net(line: JSON) -> _Amount:
    gross_unit = _read_amount(line["price_set"])
    gross = _Amount(gross_unit.shop * line["quantity"], gross_unit.presentment * line["quantity"])
    discounts = _total([_read_amount(a["amount_set"]) for a in line["discount_allocations"]])
    return gross - discounts


def _line_tax(line: JSON) -> _Amount:
    return _total([_read_amount(t["price_set"]) for t in line["tax_lines"]])


def _share(value: _Amount, part: int, whole: int) -> _Amount:
    if part == whole:
        return value  # refunding the whole line returns exactly what was paid, no rounding drift
    return _Amount(_cents(value.shop * part / whole), _cents(value.presentment * part / whole))


def _refund_lines(order: JSON, lines: list[tuple[int, int]]) -> list[tuple[JSON, int]]:
    by_id = {line["id"]: line for line in order["line_items"]}
    picked: list[tuple[JSON, int]] = []
    for line_item_id, quantity in lines:
        if line_item_id not in by_id:
            raise ValueError(f"order {order['id']} has no line item {line_item_id}")
        line = by_id[line_item_id]
        if not 0 < quantity <= line.get("current_quantity", line["quantity"]):
            raise ValueError(f"cannot refund {quantity} of line item {line_item_id}")
        picked.append((line, quantity))
    return picked


def build_refund(
    *,
    refund_id: int,
    order: JSON,
    lines: list[tuple[int, int]],
    shipping: Decimal = _ZERO,
    note: str | None = None,
    created_at: datetime | None = None,
    restock_type: str = "return",
    user_id: int | None = None,
) -> JSON:
    """A Refund resource as delivered on ``refunds/create`` (reference §4.2).

    ``subtotal`` of a refund line is the line's price after its discount allocations, pro rata to
    the refunded quantity. ``subtotal``/``total_tax`` are JSON numbers (Shopify's quirk); their
    ``*_set`` twins are strings. The transaction returns merchandise + tax (unless tax-inclusive)
    + ``shipping``, which also appears as a negative ``shipping_refund`` order adjustment.
    """
    cur = _currencies_of(order)
    created = created_at or datetime.fromisoformat(order["created_at"]) + timedelta(days=1)
    order_id = order["id"]
    location_id = order.get("location_id") or DEFAULT_LOCATION_ID
    refund_line_items: list[JSON] = []
    refunded = _NIL
    for index, (line, quantity) in enumerate(_refund_lines(order, lines)):
        subtotal = _share(_line_net(line), quantity, line["quantity"])
        tax = _share(_line_tax(line), quantity, line["quantity"])
        refunded = refunded + subtotal + (_NIL if order["taxes_included"] else tax)
        rli_id = derive_id(refund_id, "refund_line_item", index)
        refund_line_items.append(
            {
                "id": rli_id,
                "line_item_id": line["id"],
                "location_id": None if restock_type == "no_restock" else location_id,
                "quantity": quantity,
                "restock_type": restock_type,
                # Shopify sends these two as JSON numbers; float is exact enough for 2 decimals
                # and json.dumps prints the shortest repr ("195.66").
                "subtotal": float(subtotal.shop),
                "subtotal_set": cur.money_set(subtotal),
                "total_tax": float(tax.shop),
                "total_tax_set": cur.money_set(tax),
                "line_item": copy.deepcopy(line),
            }
        )
    adjustments: list[JSON] = []
    if shipping > 0:
        ship = cur.amount(shipping)
        refunded = refunded + ship
        adjustments.append(
            {
                "id": derive_id(refund_id, "order_adjustment"),
                "order_id": order_id,
                "refund_id": refund_id,
                "amount": money(-ship.shop),
                "amount_set": cur.money_set(-ship),
                "tax_amount": "0.00",
                "tax_amount_set": cur.money_set(_NIL),
                "kind": "shipping_refund",
                "reason": "Shipping refund",
            }
        )
    gateway = order["payment_gateway_names"][0] if order["payment_gateway_names"] else "manual"
    transactions: list[JSON] = []
    if refunded.shop > 0:
        txn_id = derive_id(refund_id, "transaction")
        transactions.append(
            {
                "id": txn_id,
                "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{txn_id}",
                "amount": money(refunded.shop),
                "authorization": None,
                "created_at": _ts(created),
                "currency": cur.shop,
                "device_id": None,
                "error_code": None,
                "gateway": gateway,
                "kind": "refund",
                "location_id": None,
                "message": "Refund issued",
                "order_id": order_id,
                "parent_id": derive_id(order_id, "transaction"),
                "payment_id": f"r{txn_id}",
                "processed_at": _ts(created),
                "receipt": {},
                "source_name": "web",
                "status": "success",
                "test": order["test"],
                "user_id": user_id,
            }
        )
    return {
        "id": refund_id,
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "created_at": _ts(created),
        "note": note,
        "order_id": order_id,
        "processed_at": _ts(created),
        "restock": restock_type != "no_restock" and bool(refund_line_items),
        "total_duties_set": cur.money_set(_NIL),
        "user_id": user_id,
        "order_adjustments": adjustments,
        "transactions": transactions,
        "refund_line_items": refund_line_items,
        "duties": [],
    }


def _set_amount(order: JSON, name: str, value: _Amount, cur: _Currencies) -> None:
    order[name] = money(value.shop)
    order[f"{name}_set"] = cur.money_set(value)


def apply_refund(order: JSON, refund: JSON) -> JSON:
    """The order as ``orders/updated`` shows it after ``refund``: appended to ``refunds``,
    ``current_*`` totals and quantities reduced, ``financial_status`` moved on."""
    cur = _currencies_of(order)
    updated = copy.deepcopy(order)
    updated["refunds"].append(copy.deepcopy(refund))
    lines = {line["id"]: line for line in updated["line_items"]}
    for rli in refund["refund_line_items"]:
        line = lines[rli["line_item_id"]]
        line["current_quantity"] -= rli["quantity"]
        line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - rli["quantity"])
    returned_sub = _total([_read_amount(r["subtotal_set"]) for r in refund["refund_line_items"]])
    returned_tax = _total([_read_amount(r["total_tax_set"]) for r in refund["refund_line_items"]])
    returned_ship = -_total([_read_amount(a["amount_set"]) for a in refund["order_adjustments"]])
    subtotal = _read_amount(updated["current_subtotal_price_set"]) - returned_sub
    tax = _read_amount(updated["current_total_tax_set"]) - returned_tax
    total = _read_amount(updated["current_total_price_set"]) - returned_sub - returned_ship
    if not updated["taxes_included"]:
        total = total - returned_tax
    _set_amount(updated, "current_subtotal_price", subtotal, cur)
    _set_amount(updated, "current_total_tax", tax, cur)
    _set_amount(updated, "current_total_price", total, cur)
    refunded_money = sum(
        (Decimal(t["amount"]) for r in updated["refunds"] for t in r["transactions"]),
        _ZERO,
    )
    paid = Decimal(updated["total_price"])
    updated["financial_status"] = "refunded" if refunded_money >= paid else "partially_refunded"
    updated["updated_at"] = refund["created_at"]
    return updated


def build_cancelled_order(
    order: JSON, *, reason: str = "customer", cancelled_at: datetime | None = None
) -> JSON:
    """The order as sent on ``orders/cancelled``: ``cancelled_at``/``cancel_reason``/``closed_at``
    set, nothing left current, and paid money ``refunded`` (never-captured money ``voided``)."""
    moment = cancelled_at or datetime.fromisoformat(order["updated_at"]) + timedelta(hours=1)
    cur = _currencies_of(order)
    updated = copy.deepcopy(order)
    updated["cancelled_at"] = _ts(moment)
    updated["closed_at"] = _ts(moment)
    updated["cancel_reason"] = reason
    updated["updated_at"] = _ts(moment)
    captured = order["financial_status"] in {
        "paid",
        "partially_paid",
        "partially_refunded",
    }
    updated["financial_status"] = (
        "refunded" if captured or order["financial_status"] == "refunded" else "voided"
    )
    for line in updated["line_items"]:
        line["current_quantity"] = 0
        line["fulfillable_quantity"] = 0
    for name in ("current_subtotal_price", "current_total_tax", "current_total_price"):
        _set_amount(updated, name, _NIL, cur)
    updated["total_outstanding"] = "0.00"
    return updated


# ---------------------------------------------------------------------------------------------
# Shop, uninstall and compliance topics
# ---------------------------------------------------------------------------------------------


def build_shop(
    shop_id: int,
    shop_domain: str,
    *,
    name: str | None = None,
    email: str | None = None,
    currency: str = "USD",
    created_at: datetime | None = None,
    iana_timezone: str = "America/New_York",
    plan_name: str = "partner_test",
    plan_display_name: str = "Development",
) -> JSON:
    """The REST Shop resource (used as the ``app/uninstalled`` body, reference §3.5)."""
    handle = shop_domain.split(".", 1)[0]
    shop_name = name or handle.replace("-", " ").title()
    created = created_at or _EPOCH
    return {
        "id": shop_id,
        "name": shop_name,
        "email": email or f"owner@{handle}.example",
        "domain": shop_domain,
        "province": "Ontario",
        "country": "CA",
        "address1": "150 Elgin Street",
        "zip": "K2P 1L4",
        "city": "Ottawa",
        "source": None,
        "phone": "",
        "latitude": None,
        "longitude": None,
        "primary_locale": "en",
        "address2": "",
        "created_at": _ts(created),
        "updated_at": _ts(created),
        "country_code": "CA",
        "country_name": "Canada",
        "currency": currency,
        "customer_email": email or f"owner@{handle}.example",
        "timezone": f"(GMT-05:00) {iana_timezone}",
        "iana_timezone": iana_timezone,
        "shop_owner": "Demo Owner",
        "money_format": "${{amount}}",
        "money_with_currency_format": f"${{{{amount}}}} {currency}",
        "weight_unit": "kg",
        "province_code": "ON",
        "taxes_included": False,
        "tax_shipping": None,
        "county_taxes": True,
        "plan_display_name": plan_display_name,
        "plan_name": plan_name,
        "has_discounts": True,
        "has_gift_cards": True,
        "myshopify_domain": shop_domain,
        "money_in_emails_format": "${{amount}}",
        "eligible_for_payments": True,
        "requires_extra_payments_agreement": False,
        "password_enabled": True,
        "has_storefront": True,
        "finances": True,
        "primary_location_id": DEFAULT_LOCATION_ID,
        "checkout_api_supported": True,
        "multi_location_enabled": True,
        "setup_required": False,
        "pre_launch_enabled": False,
        "enabled_presentment_currencies": [currency],
        "marketing_sms_consent_enabled_at_checkout": False,
        "transactional_sms_disabled": False,
    }


def build_app_uninstalled(shop_id: int, shop_domain: str, **shop_fields: Any) -> JSON:
    """``app/uninstalled`` body: the Shop resource (exact field list UNCONFIRMED, §3.5)."""
    return build_shop(shop_id, shop_domain, **shop_fields)


def build_customers_redact(
    shop_id: int,
    shop_domain: str,
    customer_id: int,
    email: str,
    orders_to_redact: list[int],
    phone: str | None = None,
) -> JSON:
    """``customers/redact`` body (reference §3.4)."""
    return {
        "shop_id": shop_id,
        "shop_domain": shop_domain,
        "customer": {"id": customer_id, "email": email, "phone": phone},
        "orders_to_redact": list(orders_to_redact),
    }


def build_customers_data_request(
    shop_id: int,
    shop_domain: str,
    customer_id: int,
    email: str,
    orders_requested: list[int],
    data_request_id: int,
    phone: str | None = None,
) -> JSON:
    """``customers/data_request`` body (reference §3.4)."""
    return {
        "shop_id": shop_id,
        "shop_domain": shop_domain,
        "orders_requested": list(orders_requested),
        "customer": {"id": customer_id, "email": email, "phone": phone},
        "data_request": {"id": data_request_id},
    }


def build_shop_redact(shop_id: int, shop_domain: str) -> JSON:
    """``shop/redact`` body (reference §3.4)."""
    return {"shop_id": shop_id, "shop_domain": shop_domain}

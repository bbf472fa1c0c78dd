"""The REST Order object: lines, discounts, taxes, shipping, tips and transactions (online and
POS)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .amounts import (
    DEFAULT_LOCATION_ID,
    EPOCH,
    JSON,
    NIL,
    ZERO,
    Amount,
    Currencies,
    LineSpec,
    cents,
    derive_id,
    money,
    sum_amounts,
    ts,
)
from .customers import address_of


def _allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` in whole cents; the last share absorbs drift."""
    base = sum(weights, ZERO)
    if total == 0 or base == 0:
        return [ZERO for _ in weights]
    shares = [cents(total * w / base) for w in weights]
    last = max(i for i, w in enumerate(weights) if w > 0)
    shares[last] += cents(total) - sum(shares, ZERO)
    return shares


def _tax(net: Decimal, rate: Decimal, taxes_included: bool) -> Decimal:
    if rate == 0:
        return ZERO
    if taxes_included:
        return cents(net - net / (1 + rate))
    return cents(net * rate)


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
    order_discount: Decimal = ZERO,
    discount_code: str | None = None,
    shipping: Decimal = ZERO,
    shipping_title: str | None = "Standard",
    shipping_code: str | None = None,
    shipping_delivery_category: str | None = None,
    tax_rate: Decimal = ZERO,
    taxes_included: bool = False,
    tip: Decimal = ZERO,
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
    cur = Currencies(currency, presentment_currency or currency, Decimal(exchange_rate))
    created = created_at or EPOCH
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
        Amount(u.shop * s.quantity, u.presentment * s.quantity)
        for u, s in zip(units, lines, strict=True)
    ]
    line_discount = [cur.amount(spec.discount) for spec in lines]
    weights = [
        ZERO if spec.gift_card else g.shop - d.shop
        for spec, g, d in zip(lines, gross, line_discount, strict=True)
    ]
    order_share_shop = _allocate(order_discount, weights)
    order_share_pres = _allocate(cents(cents(order_discount) * cur.rate), weights)
    order_share = [Amount(s, p) for s, p in zip(order_share_shop, order_share_pres, strict=True)]
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
    nets: list[Amount] = []
    taxes: list[Amount] = []
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
        if order_app_index is not None and order_share[i] != NIL:
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
            Amount(
                _tax(net.shop, tax_rate, taxes_included),
                _tax(net.presentment, tax_rate, taxes_included),
            )
            if taxable
            else NIL
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
                "total_discount_set": cur.money_set(NIL),
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
    shipping_amount = NIL
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
    line_items_total = sum_amounts(gross)
    discounts_total = sum_amounts(line_discount) + sum_amounts(order_share)
    subtotal = sum_amounts(nets)
    tax_total = sum_amounts(taxes)
    total = subtotal + shipping_amount + tip_amount + (NIL if taxes_included else tax_total)

    first = customer["first_name"] if customer else "Guest"
    last = customer["last_name"] if customer else "Shopper"
    phone = customer.get("phone") if customer else None
    address = address_of(first, last, phone)
    order_email = email if email is not None else (customer["email"] if customer else "")
    is_cancelled = cancelled_at is not None
    gid = f"gid://shopify/Order/{order_id}"
    return {
        "id": order_id,
        "admin_graphql_api_id": gid,
        "browser_ip": None if is_pos else "203.0.113.17",
        "buyer_accepts_marketing": False,
        "cancel_reason": cancel_reason,
        "cancelled_at": ts(cancelled_at) if cancelled_at else None,
        "cart_token": None if is_pos else f"c1-{derive_id(order_id, 'cart'):x}",
        "checkout_id": None if is_pos else derive_id(order_id, "checkout"),
        "closed_at": ts(cancelled_at) if cancelled_at else None,
        "confirmation_number": f"K{order_id % 100_000_000:08d}",
        "confirmed": True,
        "contact_email": order_email or None,
        "created_at": ts(created),
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
        "processed_at": ts(created),
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
        "updated_at": ts(cancelled_at if is_cancelled and cancelled_at else created),
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


def _tip_line(order_id: int, tip: Amount, cur: Currencies, gateway: str, is_pos: bool) -> JSON:
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
        "total_discount_set": cur.money_set(NIL),
        "variant_id": None,
        "variant_title": None,
        "vendor": None,
        "tax_lines": [],
        "duties": [],
        "discount_allocations": [],
        "tip": {"payment_gateway": None if is_pos else gateway, "payment_method": None},
        "tip_payment_gateway": None if is_pos else gateway,
    }

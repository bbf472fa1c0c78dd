"""The order desk: checkout (orders/create, orders/paid), refunds, cancellations, fulfilments."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from typing import Literal

from devstore.catalogue import DELIVERY_OPTIONS, PAYMENT_METHODS
from devstore.payloads import (
    LineSpec,
    apply_refund,
    build_cancelled_order,
    build_customer,
    build_order,
    build_refund,
)
from devstore.state import JSON, StoreState, iso

_EXCHANGE_RATES = {
    "USD": Decimal(1),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "CAD": Decimal("1.37"),
}


class OrderDesk(StoreState):
    def _resolve_variant(self, shop: JSON, item_id: int) -> tuple[JSON, JSON]:
        for product in shop["products"]:
            if product["id"] == item_id:
                return product, product["variants"][0]
            for variant in product["variants"]:
                if variant["id"] == item_id:
                    return product, variant
        raise KeyError(f"no product or variant {item_id} in {shop['domain']}")

    def _discount_for_code(
        self, shop: JSON, code: str, customer_id: int | None, merchandise: Decimal
    ) -> Decimal:
        for discount in shop["discounts"]:
            if discount["code"].lower() != code.lower():
                continue
            if discount["usage_limit"] is not None and discount["used"] >= discount["usage_limit"]:
                raise ValueError(f"discount code {code} has been used up")
            allowed = discount["customer_ids"]
            if allowed and customer_id not in allowed:
                raise ValueError(f"discount code {code} is not valid for this customer")
            discount["used"] += 1
            if discount.get("free_shipping"):
                return Decimal(0)  # nothing off the merchandise: the shipping is free instead
            if discount["percentage"] is not None:
                return merchandise * Decimal(discount["percentage"])
            return min(Decimal(discount["amount"]), merchandise)
        raise ValueError(f"unknown discount code {code}")

    @staticmethod
    def _free_shipping(shop: JSON, code: str | None) -> bool:
        return code is not None and any(
            d.get("free_shipping") and d["code"].lower() == code.lower() for d in shop["discounts"]
        )

    def place_order(
        self,
        *,
        customer_id: int | None,
        items: list[tuple[int, int]],
        payment_method: str,
        delivery_option: str | None,
        discount_code: str | None = None,
        discount_amount: Decimal | None = None,
        source_name: str = "web",
        test: bool = False,
        presentment_currency: str | None = None,
        tip: Decimal = Decimal(0),
        note_attributes: list[JSON] | None = None,
        shop_domain: str | None = None,
    ) -> JSON:
        """Check out a cart: build the order, queue ``orders/create`` then ``orders/paid``.

        ``items`` are ``(product_or_variant_id, quantity)``; a product id means its first
        variant. ``discount_code`` must be a code created through ``discountCodeBasicCreate``;
        ``discount_amount`` applies an ad-hoc amount (under ``discount_code`` or "DISCOUNT").
        POS orders have no delivery; test orders go through Shopify's ``bogus`` gateway.
        """
        if not items:
            raise ValueError("the cart is empty")
        method = next((m for m in PAYMENT_METHODS if m.name == payment_method), None)
        if method is None:
            raise ValueError(f"unknown payment method {payment_method!r}")
        delivery = None
        if delivery_option is not None and source_name != "pos":
            delivery = next((d for d in DELIVERY_OPTIONS if d.title == delivery_option), None)
            if delivery is None:
                raise ValueError(f"unknown delivery option {delivery_option!r}")
        with self._locked():
            shop = self._shop(shop_domain)
            customer = None
            if customer_id is not None:
                record = self._require_customer(shop, customer_id)
                customer = build_customer(
                    record["id"],
                    email=record["email"],
                    first_name=record["first_name"],
                    last_name=record["last_name"],
                    phone=record["phone"],
                    currency=shop["currency"],
                    created_at=datetime.fromisoformat(record["created_at"]),
                )
            lines = []
            for item_id, quantity in items:
                if quantity < 1:
                    raise ValueError("quantities must be positive")
                product, variant = self._resolve_variant(shop, item_id)
                lines.append(
                    LineSpec(
                        title=product["title"],
                        price=Decimal(variant["price"]),
                        quantity=quantity,
                        product_id=product["id"],
                        variant_id=variant["id"],
                        gift_card=product["gift_card"],
                        taxable=not product["gift_card"],
                        sku=variant["sku"],
                        variant_title=variant["title"],
                    )
                )
            merchandise = sum(
                (ls.price * ls.quantity for ls in lines if not ls.gift_card), Decimal(0)
            )
            order_discount = Decimal(0)
            if discount_amount is not None:
                order_discount = min(discount_amount, merchandise)
            elif discount_code:
                order_discount = self._discount_for_code(
                    shop, discount_code, customer_id, merchandise
                )
            presentment = presentment_currency or shop["currency"]
            if presentment not in _EXCHANGE_RATES:
                raise ValueError(f"unsupported presentment currency {presentment}")
            rate = _EXCHANGE_RATES[presentment] / _EXCHANGE_RATES[shop["currency"]]
            order_id = self._next_id()
            number = shop["next_order_number"]
            shop["next_order_number"] = number + 1
            order = build_order(
                order_id=order_id,
                shop_domain=shop["domain"],
                customer=customer,
                lines=lines,
                currency=shop["currency"],
                presentment_currency=presentment,
                exchange_rate=rate,
                order_discount=order_discount,
                discount_code=discount_code,
                shipping=Decimal(0)
                if delivery is None or self._free_shipping(shop, discount_code)
                else delivery.price,
                shipping_title=delivery.title if delivery else None,
                shipping_code=delivery.code if delivery else None,
                shipping_delivery_category=delivery.delivery_category if delivery else None,
                tax_rate=Decimal(shop["tax_rate"]),
                taxes_included=shop["taxes_included"],
                tip=tip,
                payment_gateway="bogus" if test else method.gateway,
                payment_method_name=method.name,
                source_name=source_name,
                test=test,
                created_at=self.now(),
                order_number=number,
                email=customer["email"] if customer else "guest@example.com",
                note_attributes=note_attributes,
            )
            shop["orders"].append(
                {
                    "order": order,
                    "payment_method": method.name,
                    "delivery_option": delivery.title if delivery else None,
                }
            )
            self._save()
            self._queue("orders/create", shop["domain"], order)
            self._queue("orders/paid", shop["domain"], order)
            return copy.deepcopy(order)

    def _order_record(self, order_id: int) -> tuple[JSON, JSON]:
        for shop in self._state["shops"].values():
            for record in shop["orders"]:
                if record["order"]["id"] == order_id:
                    return shop, record
        raise KeyError(f"no order {order_id}")

    def orders(self, shop_domain: str | None = None) -> list[JSON]:
        """Order records, newest first: ``{"order", "payment_method", "delivery_option"}``."""
        with self._locked():
            return copy.deepcopy(list(reversed(self._shop(shop_domain)["orders"])))

    def order(self, order_id: int) -> JSON:
        with self._locked():
            return copy.deepcopy(self._order_record(order_id)[1]["order"])

    @staticmethod
    def _shipping_left(order: JSON) -> Decimal:
        paid = Decimal(order["total_shipping_price_set"]["shop_money"]["amount"])
        refunded = -sum(
            (
                Decimal(adj["amount"])
                for refund in order["refunds"]
                for adj in refund["order_adjustments"]
                if adj["kind"] == "shipping_refund"
            ),
            Decimal(0),
        )
        return paid - refunded

    def _refund(
        self,
        shop: JSON,
        record: JSON,
        lines: list[tuple[int, int]],
        shipping: Decimal,
        note: str | None,
        restock_type: str,
    ) -> JSON:
        order = record["order"]
        if shipping > self._shipping_left(order):
            raise ValueError("cannot refund more shipping than was paid")
        refund = build_refund(
            refund_id=self._next_id(),
            order=order,
            lines=lines,
            shipping=shipping,
            note=note,
            created_at=self.now(),
            restock_type=restock_type,
        )
        record["order"] = apply_refund(order, refund)
        return refund

    def refund_order(
        self,
        order_id: int,
        lines: list[tuple[int, int]] | Literal["all"],
        shipping: Decimal = Decimal(0),
        *,
        note: str | None = None,
        restock_type: str = "return",
    ) -> JSON:
        """Refund lines (``(line_item_id, quantity)`` or ``"all"`` that remain) and/or shipping;
        queue ``refunds/create`` then ``orders/updated``. Returns the Refund resource."""
        with self._locked():
            shop, record = self._order_record(order_id)
            if record["order"]["cancelled_at"]:
                raise ValueError("order is cancelled")
            if lines == "all":
                lines = [
                    (li["id"], li["current_quantity"])
                    for li in record["order"]["line_items"]
                    if li["current_quantity"] > 0
                ]
            if not lines and shipping <= 0:
                raise ValueError("nothing to refund")
            refund = self._refund(shop, record, lines, shipping, note, restock_type)
            self._save()
            self._queue("refunds/create", shop["domain"], refund)
            self._queue("orders/updated", shop["domain"], record["order"])
            return copy.deepcopy(refund)

    def cancel_order(self, order_id: int, *, reason: str = "customer") -> JSON:
        """Cancel with refund, as the admin does by default: whatever is still paid for is
        refunded (``refunds/create``, restock type ``cancel``) and ``orders/cancelled`` is sent."""
        with self._locked():
            shop, record = self._order_record(order_id)
            if record["order"]["cancelled_at"]:
                raise ValueError("order is already cancelled")
            remaining = [
                (li["id"], li["current_quantity"])
                for li in record["order"]["line_items"]
                if li["current_quantity"] > 0
            ]
            shipping = self._shipping_left(record["order"])
            refund = None
            if remaining or shipping > 0:
                refund = self._refund(shop, record, remaining, shipping, None, "cancel")
            record["order"] = build_cancelled_order(
                record["order"], reason=reason, cancelled_at=self.now()
            )
            self._save()
            if refund is not None:
                self._queue("refunds/create", shop["domain"], refund)
            self._queue("orders/cancelled", shop["domain"], record["order"])
            return copy.deepcopy(record["order"])

    def fulfill_order(self, order_id: int) -> JSON:
        """Fulfil every remaining item; queue ``orders/fulfilled``."""
        with self._locked():
            shop, record = self._order_record(order_id)
            order = record["order"]
            if order["cancelled_at"]:
                raise ValueError("order is cancelled")
            if order["fulfillment_status"] == "fulfilled":
                raise ValueError("order is already fulfilled")
            fulfillment_id = self._next_id()
            moment = iso(self.now())
            order["fulfillments"].append(
                {
                    "id": fulfillment_id,
                    "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}",
                    "order_id": order_id,
                    "status": "success",
                    "created_at": moment,
                    "updated_at": moment,
                    "service": "manual",
                    "shipment_status": None,
                    "tracking_company": None,
                    "tracking_number": None,
                    "tracking_numbers": [],
                    "tracking_url": None,
                    "tracking_urls": [],
                    "name": f"{order['name']}.{len(order['fulfillments']) + 1}",
                    "line_items": [
                        copy.deepcopy(li)
                        for li in order["line_items"]
                        if li["fulfillable_quantity"] > 0
                    ],
                }
            )
            for line in order["line_items"]:
                if line["fulfillable_quantity"] > 0:
                    line["fulfillable_quantity"] = 0
                    line["fulfillment_status"] = "fulfilled"
            order["fulfillment_status"] = "fulfilled"
            order["updated_at"] = moment
            self._save()
            self._queue("orders/fulfilled", shop["domain"], order)
            return copy.deepcopy(order)

"""`DevStore`: the simulated Shopify store — catalogue, customers, orders, app install state,
access tokens, discounts, metafields and the GraphQL cost bucket.

One lock guards everything. State is plain JSON-able data so it can be written atomically to a
file (tmp + ``os.replace``) after every mutation and re-read when another process (the CLI, a
second server) changed the file: the demo survives restarts and all processes see one store.

Merchant and buyer actions (placing, refunding, cancelling, fulfilling orders; uninstalling the
app; compliance requests) *queue* webhook events. They are handed to the connected sink (the
`WebhookSender`, see ``connect_webhooks``) only after the mutation is committed and the lock is
released, so a slow app never blocks the store and never sees uncommitted state. Without a sink
the events wait in ``pending_webhooks()`` for a test to take them.

Not persisted: queued webhook events, the GraphQL call log, the cost bucket and forced failures.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from devstore.payloads import (
    ID_BASE,
    LineSpec,
    apply_refund,
    build_app_uninstalled,
    build_cancelled_order,
    build_customer,
    build_customers_data_request,
    build_customers_redact,
    build_order,
    build_refund,
    build_shop,
    build_shop_redact,
    money,
)

__all__ = [
    "DEFAULT_SCOPES",
    "DELIVERY_OPTIONS",
    "PAYMENT_METHODS",
    "DeliveryOption",
    "DevStore",
    "PaymentMethod",
    "ThrottleStatus",
    "WebhookEvent",
]

JSON = dict[str, Any]
FailureKind = Literal["throttle", "http500", "user_error"]

DEFAULT_SCOPES = (
    "read_customers,write_customers,read_orders,write_discounts,"
    "read_payment_customizations,write_payment_customizations,"
    "read_delivery_customizations,write_delivery_customizations"
)
_SCHEMA = 1
_EXCHANGE_RATES = {
    "USD": Decimal(1),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "CAD": Decimal("1.37"),
}


@dataclass(frozen=True)
class PaymentMethod:
    """A payment method as the checkout lists it; ``gateway`` is what the order records."""

    name: str
    gateway: str


@dataclass(frozen=True)
class DeliveryOption:
    """A delivery option as the checkout lists it. ``method_type`` follows the Checkout API's
    ``DeliveryOption.type`` values; ``delivery_category`` is what the order's shipping line
    carries (our guess for pickup/local; Shopify's exact values are UNCONFIRMED)."""

    title: str
    code: str
    price: Decimal
    method_type: str
    delivery_category: str | None


PAYMENT_METHODS: tuple[PaymentMethod, ...] = (
    PaymentMethod("Credit card", "shopify_payments"),
    PaymentMethod("PayPal", "paypal"),
    PaymentMethod("Shop Pay", "shopify_payments"),
    PaymentMethod("Cash on Delivery (COD)", "Cash on Delivery (COD)"),
    PaymentMethod("Bank Deposit", "Bank Deposit"),
)
DELIVERY_OPTIONS: tuple[DeliveryOption, ...] = (
    DeliveryOption("Standard", "STANDARD", Decimal("4.90"), "SHIPPING", None),
    DeliveryOption("Express", "EXPRESS", Decimal("14.90"), "SHIPPING", None),
    DeliveryOption("Free pickup in store", "PICKUP", Decimal("0.00"), "PICK_UP", "pick-up"),
    DeliveryOption("Local delivery", "LOCAL", Decimal("6.00"), "LOCAL", "local"),
)

# (title, [(variant title, price, sku)], gift card?)
_CATALOGUE: tuple[tuple[str, list[tuple[str | None, str, str]], bool], ...] = (
    (
        "Sencha Green Tea",
        [("50 g", "12.50", "TEA-SEN-50"), ("100 g", "22.00", "TEA-SEN-100")],
        False,
    ),
    ("Ceramic Mug", [(None, "18.00", "MUG-CER")], False),
    ("Bamboo Whisk", [(None, "9.90", "WHISK-BMB")], False),
    ("Cast Iron Teapot", [(None, "64.00", "POT-CI")], False),
    ("Loose Leaf Sampler", [(None, "29.00", "TEA-SAMPLER")], False),
    ("Kanta Gift Card", [("$25", "25.00", "GIFT-25"), ("$50", "50.00", "GIFT-50")], True),
)
_CUSTOMERS = (
    ("Ada", "Lovelace", "ada.lovelace@example.com", "+16135550101"),
    ("Grace", "Hopper", "grace.hopper@example.com", "+16135550102"),
    ("Alan", "Turing", "alan.turing@example.com", None),
    ("Katherine", "Johnson", "katherine.johnson@example.com", "+16135550104"),
    ("Margaret", "Hamilton", "margaret.hamilton@example.com", None),
    ("Linus", "Pauling", "linus.pauling@example.com", "+16135550106"),
)


@dataclass(frozen=True)
class WebhookEvent:
    """One queued webhook: what Shopify decided to send, before any delivery attempt."""

    topic: str
    shop_domain: str
    payload: JSON
    triggered_at: datetime


@dataclass(frozen=True)
class ThrottleStatus:
    """``extensions.cost.throttleStatus`` of a GraphQL response, plus whether the call fits."""

    allowed: bool
    maximum_available: float
    currently_available: float
    restore_rate: float


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class DevStore:
    """The simulated Shopify: every shop, the one app (Kanta) and its tokens. Thread-safe."""

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        shop_domain: str = "kanta-demo.myshopify.com",
        currency: str = "USD",
        state_path: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        access_token_ttl: int = 3600,
        refresh_token_ttl: int = 7_776_000,
        graphql_bucket_size: float = 2000.0,
        graphql_restore_rate: float = 100.0,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.default_shop = shop_domain
        self.state_path = state_path
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.graphql_bucket_size = graphql_bucket_size
        self.graphql_restore_rate = graphql_restore_rate
        # The numeric app id behind `$app:` namespaces; stable for a given api key.
        self.app_id = (
            1_000_000 + int(hashlib.sha256(api_key.encode()).hexdigest()[:8], 16) % 9_000_000
        )
        self._clock = clock or _utcnow
        self._lock = threading.RLock()
        self._depth = 0  # nesting of _locked() by the thread holding the lock
        self._outbox: list[WebhookEvent] = []
        self._sink: Callable[[str, str, JSON], object] | None = None
        self._graphql_log: list[JSON] = []
        self._forced_failures: list[FailureKind] = []
        self._buckets: dict[str, tuple[float, datetime]] = {}
        self._loaded_mtime: int | None = None
        self._state: JSON = {
            "schema": _SCHEMA,
            "next_seq": 1,
            "shops": {},
            "access_tokens": {},
            "refresh_tokens": {},
            "refresh_counts": {},
        }
        with self._locked():
            if shop_domain not in self._state["shops"]:
                self._create_shop(shop_domain, currency)
                self._save()

    # ------------------------------------------------------------------ infrastructure

    def now(self) -> datetime:
        """The store's clock (injectable for tests); always timezone-aware UTC."""
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the DevStore clock returned a naive datetime")
        return moment

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            self._depth += 1
            try:
                if self._depth == 1:
                    self._reload_if_changed()
                yield
            finally:
                self._depth -= 1
            outermost = self._depth == 0
        if outermost:
            self._flush_webhooks()

    def _reload_if_changed(self) -> None:
        if self.state_path is None or not self.state_path.exists():
            return
        mtime = self.state_path.stat().st_mtime_ns
        if mtime != self._loaded_mtime:
            loaded = json.loads(self.state_path.read_text(encoding="utf-8"))
            if loaded.get("schema") != _SCHEMA:
                raise ValueError(f"{self.state_path}: unknown devstore state schema")
            self._state = loaded
            self._loaded_mtime = mtime

    def _save(self) -> None:
        if self.state_path is None:
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".devstore-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._state, handle)
            os.replace(tmp, self.state_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._loaded_mtime = self.state_path.stat().st_mtime_ns

    def _next_id(self) -> int:
        seq: int = self._state["next_seq"]
        self._state["next_seq"] = seq + 1
        return ID_BASE + seq

    def _shop(self, shop_domain: str | None) -> JSON:
        domain = shop_domain or self.default_shop
        try:
            shop: JSON = self._state["shops"][domain]
        except KeyError:
            raise KeyError(f"no such shop: {domain}") from None
        return shop

    def _queue(self, topic: str, shop_domain: str, payload: JSON) -> None:
        self._outbox.append(WebhookEvent(topic, shop_domain, copy.deepcopy(payload), self.now()))

    def _flush_webhooks(self) -> None:
        # Runs after the lock is released: deliveries may be slow and must see committed state.
        sink = self._sink
        if sink is None:
            return
        with self._lock:
            events, self._outbox = self._outbox, []
        for event in events:
            sink(event.topic, event.shop_domain, event.payload)

    def connect_webhooks(self, sink: Callable[[str, str, JSON], object] | None) -> None:
        """Hand every queued and future webhook to ``sink(topic, shop_domain, payload)``
        (normally ``WebhookSender.send``); ``None`` disconnects."""
        self._sink = sink
        self._flush_webhooks()

    def pending_webhooks(self) -> list[WebhookEvent]:
        """Take (and remove) the webhooks queued while no sink was connected."""
        with self._lock:
            events, self._outbox = self._outbox, []
        return events

    # ------------------------------------------------------------------ shops and catalogue

    def _create_shop(self, domain: str, currency: str) -> None:
        shop_id = self._next_id()
        products = []
        for title, variants, gift_card in _CATALOGUE:
            product_id = self._next_id()
            products.append(
                {
                    "id": product_id,
                    "title": title,
                    "gift_card": gift_card,
                    "variants": [
                        {"id": self._next_id(), "title": v_title, "price": price, "sku": sku}
                        for v_title, price, sku in variants
                    ],
                }
            )
        customers = [
            {
                "id": self._next_id(),
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": phone,
                "created_at": _iso(self.now()),
            }
            for first, last, email, phone in _CUSTOMERS
        ]
        self._state["shops"][domain] = {
            "id": shop_id,
            "domain": domain,
            "currency": currency,
            "tax_rate": "0.08",
            "taxes_included": False,
            "installed": True,
            "scopes": DEFAULT_SCOPES,
            "next_order_number": 1001,
            "products": products,
            "customers": customers,
            "orders": [],
            "discounts": [],
            "metafields": [],
        }

    def add_shop(self, shop_domain: str, *, currency: str = "USD") -> JSON:
        """Create a second (third...) shop with its own catalogue; idempotent."""
        with self._locked():
            if shop_domain not in self._state["shops"]:
                self._create_shop(shop_domain, currency)
                self._save()
            return self.shop_resource(shop_domain)

    def shop_domains(self) -> list[str]:
        with self._locked():
            return list(self._state["shops"])

    def shop_resource(self, shop_domain: str | None = None) -> JSON:
        """The REST Shop resource of a shop."""
        with self._locked():
            shop = self._shop(shop_domain)
            return build_shop(shop["id"], shop["domain"], currency=shop["currency"])

    def shop_id(self, shop_domain: str | None = None) -> int:
        with self._locked():
            shop_id: int = self._shop(shop_domain)["id"]
            return shop_id

    def products(self, shop_domain: str | None = None) -> list[JSON]:
        with self._locked():
            return copy.deepcopy(self._shop(shop_domain)["products"])

    def customers(self, shop_domain: str | None = None) -> list[JSON]:
        with self._locked():
            return copy.deepcopy(self._shop(shop_domain)["customers"])

    def customer(self, customer_id: int, shop_domain: str | None = None) -> JSON | None:
        with self._locked():
            for customer in self._shop(shop_domain)["customers"]:
                if customer["id"] == customer_id:
                    found: JSON = copy.deepcopy(customer)
                    return found
            return None

    @staticmethod
    def payment_methods() -> tuple[PaymentMethod, ...]:
        return PAYMENT_METHODS

    @staticmethod
    def delivery_options() -> tuple[DeliveryOption, ...]:
        return DELIVERY_OPTIONS

    # ------------------------------------------------------------------ app install state

    def is_installed(self, shop_domain: str | None = None) -> bool:
        with self._locked():
            return bool(self._shop(shop_domain)["installed"])

    def scopes(self, shop_domain: str | None = None) -> str:
        with self._locked():
            scopes: str = self._shop(shop_domain)["scopes"]
            return scopes

    def install_app(self, shop_domain: str | None = None, *, scopes: str | None = None) -> None:
        """Shopify-managed install: mark installed. Kanta gets a token by token exchange on its
        next load (reference §1.8); nothing is sent to the app here."""
        with self._locked():
            shop = self._shop(shop_domain)
            shop["installed"] = True
            if scopes is not None:
                shop["scopes"] = scopes
            self._save()

    def update_scopes(self, scopes: str, shop_domain: str | None = None) -> None:
        """Merchant approved new scopes: queue ``app/scopes_update``."""
        with self._locked():
            shop = self._shop(shop_domain)
            previous = shop["scopes"].split(",")
            shop["scopes"] = scopes
            self._save()
            self._queue(
                "app/scopes_update",
                shop["domain"],
                {
                    "id": self.app_id,
                    "previous": previous,
                    "current": scopes.split(","),
                    "updated_at": _iso(self.now()),
                },
            )

    def uninstall_app(self, shop_domain: str | None = None) -> None:
        """Uninstall: every token of the shop is revoked at once, ``app/uninstalled`` queued."""
        with self._locked():
            shop = self._shop(shop_domain)
            shop["installed"] = False
            for record in self._state["access_tokens"].values():
                if record["shop"] == shop["domain"]:
                    record["revoked"] = True
            for record in self._state["refresh_tokens"].values():
                if record["shop"] == shop["domain"]:
                    record["status"] = "revoked"
            self._save()
            self._queue(
                "app/uninstalled",
                shop["domain"],
                build_app_uninstalled(shop["id"], shop["domain"], currency=shop["currency"]),
            )

    def request_shop_redact(self, shop_domain: str | None = None) -> None:
        """Queue ``shop/redact`` (Shopify sends it 48 h after uninstall; here: on demand)."""
        with self._locked():
            shop = self._shop(shop_domain)
            self._queue(
                "shop/redact", shop["domain"], build_shop_redact(shop["id"], shop["domain"])
            )

    def _customer_orders(self, shop: JSON, customer_id: int) -> list[int]:
        return [
            rec["order"]["id"]
            for rec in shop["orders"]
            if rec["order"]["customer"] and rec["order"]["customer"]["id"] == customer_id
        ]

    def _require_customer(self, shop: JSON, customer_id: int) -> JSON:
        for customer in shop["customers"]:
            if customer["id"] == customer_id:
                found: JSON = customer
                return found
        raise KeyError(f"no customer {customer_id} in {shop['domain']}")

    def request_customer_redact(self, customer_id: int, shop_domain: str | None = None) -> None:
        """Queue ``customers/redact`` listing the customer's orders."""
        with self._locked():
            shop = self._shop(shop_domain)
            customer = self._require_customer(shop, customer_id)
            payload = build_customers_redact(
                shop["id"],
                shop["domain"],
                customer_id,
                customer["email"],
                self._customer_orders(shop, customer_id),
                phone=customer["phone"],
            )
            self._queue("customers/redact", shop["domain"], payload)

    def request_customer_data(self, customer_id: int, shop_domain: str | None = None) -> None:
        """Queue ``customers/data_request`` with a fresh data request id."""
        with self._locked():
            shop = self._shop(shop_domain)
            customer = self._require_customer(shop, customer_id)
            payload = build_customers_data_request(
                shop["id"],
                shop["domain"],
                customer_id,
                customer["email"],
                self._customer_orders(shop, customer_id),
                self._next_id(),
                phone=customer["phone"],
            )
            self._save()
            self._queue("customers/data_request", shop["domain"], payload)

    # ------------------------------------------------------------------ orders

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
            if discount["percentage"] is not None:
                return merchandise * Decimal(discount["percentage"])
            return min(Decimal(discount["amount"]), merchandise)
        raise ValueError(f"unknown discount code {code}")

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
                shipping=delivery.price if delivery else Decimal(0),
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
            moment = _iso(self.now())
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

    # ------------------------------------------------------------------ access tokens

    def _issue(self, shop_domain: str, *, expiring: bool, online: bool = False) -> JSON:
        now = self.now()
        scope = self._shop(shop_domain)["scopes"]
        token = "shpat_" + secrets.token_hex(16)
        ttl = 86_399 if online else self.access_token_ttl
        self._state["access_tokens"][token] = {
            "shop": shop_domain,
            "scope": scope,
            "expires_at": _iso(now + timedelta(seconds=ttl)) if expiring or online else None,
            "revoked": False,
            "issued_at": _iso(now),
        }
        response: JSON = {"access_token": token, "scope": scope}
        if online:
            response.update(
                expires_in=ttl,
                associated_user_scope=scope,
                associated_user={
                    "id": 1,
                    "first_name": "Demo",
                    "last_name": "Owner",
                    "email": "owner@example.com",
                    "account_owner": True,
                    "locale": "en",
                    "collaborator": False,
                    "email_verified": True,
                },
            )
            return response
        if expiring:
            # Only one refreshable token per app+store: a new one retires the others (§1.7).
            for record in self._state["refresh_tokens"].values():
                if record["shop"] == shop_domain and record["status"] == "active":
                    record["status"] = "retired"
            refresh = "shprt_" + secrets.token_hex(16)
            self._state["refresh_tokens"][refresh] = {
                "shop": shop_domain,
                "expires_at": _iso(now + timedelta(seconds=self.refresh_token_ttl)),
                "status": "active",
            }
            response.update(
                expires_in=self.access_token_ttl,
                refresh_token=refresh,
                refresh_token_expires_in=self.refresh_token_ttl,
            )
        return response

    def issue_access_token(self, shop_domain: str, *, expiring: bool, online: bool = False) -> JSON:
        """Issue a token (the body of a successful token-endpoint response)."""
        with self._locked():
            response = self._issue(shop_domain, expiring=expiring, online=online)
            self._save()
            return response

    def refresh_access_token(self, shop_domain: str, refresh_token: str) -> JSON | None:
        """Rotate: a live, unused refresh token yields a new access + refresh token and becomes
        invalid; anything else yields ``None`` (→ ``invalid_grant``)."""
        with self._locked():
            record = self._state["refresh_tokens"].get(refresh_token)
            if (
                record is None
                or record["shop"] != shop_domain
                or record["status"] != "active"
                or datetime.fromisoformat(record["expires_at"]) <= self.now()
            ):
                return None
            record["status"] = "used"
            counts = self._state["refresh_counts"]
            counts[shop_domain] = counts.get(shop_domain, 0) + 1
            response = self._issue(shop_domain, expiring=True)
            self._save()
            return response

    def revoke_offline_token(self, shop_domain: str, token: str) -> bool:
        """Retire a non-expiring token being migrated to an expiring one (§1.7)."""
        with self._locked():
            record = self._state["access_tokens"].get(token)
            if record is None or record["shop"] != shop_domain or record["revoked"]:
                return False
            if record["expires_at"] is not None:
                return False
            record["revoked"] = True
            self._save()
            return True

    def token_is_live(self, shop_domain: str, token: str) -> bool:
        """Whether ``token`` is an unrevoked, unexpired access token for this shop."""
        with self._locked():
            record = self._state["access_tokens"].get(token)
            if record is None or record["shop"] != shop_domain or record["revoked"]:
                return False
            expires = record["expires_at"]
            return expires is None or datetime.fromisoformat(expires) > self.now()

    def refresh_count(self, shop_domain: str | None = None) -> int:
        """How many successful refreshes this shop saw (to prove racing workers refreshed once)."""
        with self._locked():
            count: int = self._state["refresh_counts"].get(shop_domain or self.default_shop, 0)
            return count

    def expire_access_tokens(self, shop_domain: str | None = None) -> None:
        """Test/demo hook: make every expiring access token of the shop expire now."""
        with self._locked():
            domain = shop_domain or self.default_shop
            past = _iso(self.now() - timedelta(seconds=1))
            for record in self._state["access_tokens"].values():
                if record["shop"] == domain and record["expires_at"] is not None:
                    record["expires_at"] = past
            self._save()

    # ------------------------------------------------------------------ GraphQL support

    def graphql_fail_next(self, n: int = 1, kind: FailureKind = "throttle") -> None:
        """Force the next ``n`` GraphQL calls to fail: ``throttle`` (THROTTLED error),
        ``http500`` (Shopify's internal error) or ``user_error`` (mutation userErrors)."""
        with self._lock:
            self._forced_failures.extend([kind] * n)

    def take_forced_failure(self) -> FailureKind | None:
        with self._lock:
            return self._forced_failures.pop(0) if self._forced_failures else None

    def record_graphql_call(self, entry: JSON) -> None:
        with self._lock:
            self._graphql_log.append(copy.deepcopy(entry))

    @property
    def graphql_calls(self) -> list[JSON]:
        """Every GraphQL call received: ``shop``, ``operation_name``, ``root_field``,
        ``variables``, ``access_token``, ``status``, ``outcome``, ``at``."""
        with self._lock:
            return copy.deepcopy(self._graphql_log)

    def consume_query_cost(self, shop_domain: str, cost: float) -> ThrottleStatus:
        """Leaky bucket per app+store (§5.4): refill at the restore rate, then take ``cost``
        if it fits; a throttled call takes nothing."""
        with self._lock:
            now = self.now()
            available, last = self._buckets.get(shop_domain, (self.graphql_bucket_size, now))
            elapsed = max(0.0, (now - last).total_seconds())
            available = min(
                self.graphql_bucket_size, available + elapsed * self.graphql_restore_rate
            )
            allowed = cost <= available
            if allowed:
                available -= cost
            self._buckets[shop_domain] = (available, now)
            return ThrottleStatus(
                allowed, self.graphql_bucket_size, available, self.graphql_restore_rate
            )

    def create_code_discount(
        self, shop_domain: str, fields: JSON
    ) -> tuple[JSON | None, list[JSON]]:
        """Store a basic code discount from a validated ``DiscountCodeBasicInput``; returns the
        stored discount or a ``TAKEN`` user error for a duplicate code."""
        with self._locked():
            shop = self._shop(shop_domain)
            code = fields["code"]
            if any(d["code"].lower() == code.lower() for d in shop["discounts"]):
                return None, [
                    {
                        "field": ["basicCodeDiscount", "code"],
                        "code": "TAKEN",
                        "message": "Code must be unique. Please try a different code.",
                    }
                ]
            discount = {"id": self._next_id(), "created_at": _iso(self.now()), "used": 0, **fields}
            shop["discounts"].append(discount)
            self._save()
            return copy.deepcopy(discount), []

    def discounts(self, shop_domain: str | None = None) -> list[JSON]:
        with self._locked():
            return copy.deepcopy(self._shop(shop_domain)["discounts"])

    def owner_exists(self, shop_domain: str, owner_gid: str) -> bool:
        with self._locked():
            shop = self._shop(shop_domain)
            kind, _, raw_id = owner_gid.removeprefix("gid://shopify/").partition("/")
            if not raw_id.isdigit():
                return False
            if kind == "Customer":
                return any(c["id"] == int(raw_id) for c in shop["customers"])
            if kind == "Shop":
                return bool(shop["id"] == int(raw_id))
            return kind in {
                "Order",
                "Product",
                "DiscountNode",
                "PaymentCustomization",
                "DeliveryCustomization",
                "Company",
                "Location",
            }

    def find_metafield(
        self, shop_domain: str, owner_gid: str, namespace: str, key: str
    ) -> JSON | None:
        with self._locked():
            for mf in self._shop(shop_domain)["metafields"]:
                if (mf["owner_id"], mf["namespace"], mf["key"]) == (owner_gid, namespace, key):
                    found: JSON = copy.deepcopy(mf)
                    return found
            return None

    def write_metafields(self, shop_domain: str, inputs: list[JSON]) -> list[JSON]:
        """Upsert already-validated metafields atomically; returns the stored records."""
        with self._locked():
            shop = self._shop(shop_domain)
            moment = _iso(self.now())
            stored = []
            for item in inputs:
                ident = (item["owner_id"], item["namespace"], item["key"])
                existing = next(
                    (
                        mf
                        for mf in shop["metafields"]
                        if (mf["owner_id"], mf["namespace"], mf["key"]) == ident
                    ),
                    None,
                )
                if existing is None:
                    existing = {"id": self._next_id(), "created_at": moment, **item}
                    shop["metafields"].append(existing)
                existing.update(item, updated_at=moment)
                existing["compare_digest"] = hashlib.sha256(
                    f"{existing['id']}:{existing['value']}:{moment}".encode()
                ).hexdigest()
                stored.append(copy.deepcopy(existing))
            self._save()
            return stored

    def customer_stats(self, shop_domain: str, customer_id: int) -> tuple[int, str]:
        """(number of orders, amount spent as a money string) for the ``customer`` query."""
        with self._locked():
            shop = self._shop(shop_domain)
            orders = [
                rec["order"]
                for rec in shop["orders"]
                if rec["order"]["customer"] and rec["order"]["customer"]["id"] == customer_id
            ]
            spent = sum(
                (Decimal(o["current_total_price"]) for o in orders if not o["cancelled_at"]),
                Decimal(0),
            )
            return len(orders), money(spent)

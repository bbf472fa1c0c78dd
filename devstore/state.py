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

Not persisted: queued webhook events, the GraphQL call log, the cost bucket and forced failures."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from devstore.catalogue import (
    CATALOGUE,
    CUSTOMERS,
    DEFAULT_SCOPES,
    DELIVERY_OPTIONS,
    PAYMENT_METHODS,
    DeliveryOption,
    PaymentMethod,
)
from devstore.payloads import (
    ID_BASE,
    build_shop,
)

JSON = dict[str, Any]
FailureKind = Literal["throttle", "http500", "user_error", "lost_response"]
_SCHEMA = 1


@dataclass(frozen=True)
class WebhookEvent:
    """One queued webhook: what Shopify decided to send, before any delivery attempt."""

    topic: str
    shop_domain: str
    payload: JSON
    triggered_at: datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class StoreState:
    """The store's state and its infrastructure: one lock, JSON state persisted atomically, the
    webhook outbox, shops and their customers. The concerns of the store build on it."""

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
        self._clock = clock or utcnow
        self._lock = threading.RLock()
        self._depth = 0  # nesting of _locked() by the thread holding the lock
        self._outbox: list[WebhookEvent] = []
        self._sink: Callable[[str, str, JSON], object] | None = None
        # Held from taking the outbox to the last hand-over: a thread that flushes while another
        # is handing over what it took waits for it, so every call returns only once the
        # webhooks queued before its end reached the sink (re-entrant: a synchronous sink's
        # request may call the store back on the same thread).
        self._flushing = threading.RLock()
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
        with self._flushing:
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

    def _create_shop(self, domain: str, currency: str) -> None:
        shop_id = self._next_id()
        products = []
        for title, variants, gift_card in CATALOGUE:
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
                "created_at": iso(self.now()),
            }
            for first, last, email, phone in CUSTOMERS
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

    def _require_customer(self, shop: JSON, customer_id: int) -> JSON:
        for customer in shop["customers"]:
            if customer["id"] == customer_id:
                found: JSON = customer
                return found
        raise KeyError(f"no customer {customer_id} in {shop['domain']}")

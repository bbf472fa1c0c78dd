"""`WebhookSender`: delivers webhooks to the app the way Shopify does (reference §3.1–§3.3).

- Body: the payload serialised once, compact JSON, signed with ``X-Shopify-Hmac-Sha256``; every
  retry sends those same bytes with the same ``X-Shopify-Webhook-Id`` and ``X-Shopify-Event-Id``
  (Shopify retries the *original* payload).
- Success is any 2xx within the timeout (5 s total, 1 s to connect); anything else — 3xx, 4xx,
  5xx, a network error, a timeout — is a failed attempt and is retried after the configured delays
  (Shopify: 8 retries over 4 h; here scaled down for the demo).
- ``redeliver`` re-sends a past delivery with the *same* webhook id (a true duplicate);
  ``duplicate_subscription`` sends each event twice with different webhook ids but one event id,
  as two subscriptions to one topic would.
- Synchronous mode (tests) retries at once without sleeping. Asynchronous mode runs ONE worker
  thread, started by ``start()`` and stopped by ``stop()``, fed by a scheduled queue.

Every attempt is recorded (status, duration, headers, truncated response) for the demo UI.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from devstore.signing import webhook_headers

__all__ = ["DEFAULT_TOPICS", "Attempt", "Delivery", "WebhookSender"]

#: What Kanta subscribes to; all go to ``{app_url}/webhooks``.
DEFAULT_TOPICS: tuple[str, ...] = (
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/edited",
    "orders/cancelled",
    "orders/fulfilled",
    "refunds/create",
    "app/uninstalled",
    "app/scopes_update",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
)
TIMEOUT = httpx.Timeout(5.0, connect=1.0)
RESPONSE_SNIPPET = 500
LOG_SIZE = 500


@dataclass
class Attempt:
    """One HTTP attempt of a delivery."""

    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    request_headers: dict[str, str]
    response_body: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class Delivery:
    """One delivery of one event to one subscription, with all its attempts."""

    id: str
    topic: str
    shop_domain: str
    webhook_id: str
    event_id: str
    triggered_at: datetime
    body: bytes
    max_attempts: int
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "pending"  # pending → delivered | retrying → failed
    redelivery_of: str | None = None

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def status_codes(self) -> list[int | None]:
        return [a.status_code for a in self.attempts]


class WebhookSender:
    """Signs and POSTs webhooks to ``{app_url}/webhooks``, retrying like Shopify."""

    def __init__(
        self,
        *,
        client: httpx.Client,
        app_url: str,
        api_secret: str,
        api_version: str = "2026-04",
        retry_delays: Sequence[float] = (1.0, 5.0, 30.0),
        synchronous: bool = False,
        duplicate_subscription: bool = False,
        topics: Sequence[str] = DEFAULT_TOPICS,
        path: str = "/webhooks",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.endpoint = app_url.rstrip("/") + path
        self.api_secret = api_secret
        self.api_version = api_version
        self.retry_delays = tuple(retry_delays)
        self.synchronous = synchronous
        self.duplicate_subscription = duplicate_subscription
        self.topics = frozenset(topics)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._log: OrderedDict[str, Delivery] = OrderedDict()
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._schedule: list[tuple[float, int, str]] = []
        self._seq = 0
        self._worker: threading.Thread | None = None
        self._stopping = False

    # ------------------------------------------------------------------ public API

    def send(
        self, topic: str, shop_domain: str, payload: Any, *, duplicate: bool | None = None
    ) -> Delivery:
        """Deliver one event. Returns the (first) delivery; with a duplicate subscription a second
        delivery with its own webhook id and the same event id follows."""
        if topic not in self.topics:
            raise ValueError(f"the app is not subscribed to {topic}")
        body = json.dumps(payload, separators=(",", ":")).encode()
        event_id = str(uuid.uuid4())
        triggered_at = self._clock()
        copies = 2 if (self.duplicate_subscription if duplicate is None else duplicate) else 1
        deliveries = [
            self._new_delivery(topic, shop_domain, body, event_id, triggered_at)
            for _ in range(copies)
        ]
        for delivery in deliveries:
            self._dispatch(delivery)
        return deliveries[0]

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send a past delivery again, same body, same webhook id and event id."""
        with self._lock:
            original = self._log[delivery_id]
        delivery = self._new_delivery(
            original.topic,
            original.shop_domain,
            original.body,
            original.event_id,
            original.triggered_at,
            webhook_id=original.webhook_id,
            redelivery_of=original.id,
        )
        self._dispatch(delivery)
        return delivery

    def deliveries(self) -> list[Delivery]:
        """The delivery log, newest first."""
        with self._lock:
            return list(reversed(self._log.values()))

    def delivery(self, delivery_id: str) -> Delivery:
        with self._lock:
            return self._log[delivery_id]

    def start(self) -> None:
        """Start the single background worker (asynchronous mode)."""
        if self.synchronous:
            return
        with self._lock:
            if self._worker is not None:
                return
            self._stopping = False
            self._worker = threading.Thread(target=self._run, name="devstore-webhooks", daemon=True)
            self._worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker; pending retries are abandoned (they stay ``retrying`` in the log)."""
        with self._lock:
            worker = self._worker
            self._stopping = True
            self._wakeup.notify_all()
        if worker is not None:
            worker.join(timeout)
        with self._lock:
            self._worker = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is due right now (asynchronous mode; for tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                now = time.monotonic()
                busy = any(due <= now for due, _, _ in self._schedule) or any(
                    d.state == "pending" for d in self._log.values()
                )
            if not busy:
                return True
            time.sleep(0.01)
        return False

    # ------------------------------------------------------------------ internals

    def _new_delivery(
        self,
        topic: str,
        shop_domain: str,
        body: bytes,
        event_id: str,
        triggered_at: datetime,
        *,
        webhook_id: str | None = None,
        redelivery_of: str | None = None,
    ) -> Delivery:
        delivery = Delivery(
            id=uuid.uuid4().hex,
            topic=topic,
            shop_domain=shop_domain,
            webhook_id=webhook_id or str(uuid.uuid4()),
            event_id=event_id,
            triggered_at=triggered_at,
            body=body,
            max_attempts=1 + len(self.retry_delays),
            redelivery_of=redelivery_of,
        )
        with self._lock:
            self._log[delivery.id] = delivery
            while len(self._log) > LOG_SIZE:
                self._log.popitem(last=False)
        return delivery

    def _dispatch(self, delivery: Delivery) -> None:
        if self.synchronous:
            while self._attempt(delivery) is not None:
                pass  # synchronous mode retries at once: tests must not sleep
            return
        self._enqueue(delivery.id, 0.0)

    def _enqueue(self, delivery_id: str, delay: float) -> None:
        with self._lock:
            self._seq += 1
            heapq.heappush(self._schedule, (time.monotonic() + delay, self._seq, delivery_id))
            self._wakeup.notify()

    def _attempt(self, delivery: Delivery) -> float | None:
        """Make one attempt; return the delay before the next one, or ``None`` when done."""
        headers = webhook_headers(
            topic=delivery.topic,
            shop_domain=delivery.shop_domain,
            body=delivery.body,
            secret=self.api_secret,
            api_version=self.api_version,
            webhook_id=delivery.webhook_id,
            event_id=delivery.event_id,
            triggered_at=delivery.triggered_at,
        )
        started = time.perf_counter()
        at = self._clock()
        status: int | None = None
        error: str | None = None
        text = ""
        try:
            response = self.client.post(
                self.endpoint, content=delivery.body, headers=headers, timeout=TIMEOUT
            )
            status = response.status_code
            text = response.text[:RESPONSE_SNIPPET]
        except httpx.TimeoutException:
            error = "timeout (5 s)"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempt = Attempt(
            number=len(delivery.attempts) + 1,
            at=at,
            status_code=status,
            error=error,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            request_headers=headers,
            response_body=text,
        )
        with self._lock:
            delivery.attempts.append(attempt)
            if attempt.ok:
                delivery.state = "delivered"
                return None
            if len(delivery.attempts) >= delivery.max_attempts:
                delivery.state = "failed"
                return None
            delivery.state = "retrying"
            return self.retry_delays[len(delivery.attempts) - 1]

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and (
                    not self._schedule or self._schedule[0][0] > time.monotonic()
                ):
                    wait = self._schedule[0][0] - time.monotonic() if self._schedule else None
                    self._wakeup.wait(wait)
                if self._stopping:
                    return
                _, _, delivery_id = heapq.heappop(self._schedule)
                delivery = self._log.get(delivery_id)
            if delivery is None:
                continue
            delay = self._attempt(delivery)
            if delay is not None:
                self._enqueue(delivery.id, delay)

"""Webhook delivery: signed like Shopify, retried with the same ids, duplicates on demand."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import shopify_app
from devstore_testkit import API_KEY, API_SECRET, APP_URL, SHOP, FakeKanta

from devstore import WebhookSender

CONFIG: shopify_app.AppConfig = {"client_id": API_KEY, "client_secret": API_SECRET}


def test_retries_on_500_then_succeeds_with_same_ids_and_body(
    sender: WebhookSender, kanta: FakeKanta
) -> None:
    kanta.script = [500, 503]
    delivery = sender.send("orders/paid", SHOP, {"id": 7_000_000_000_000_000_001})
    assert delivery.state == "delivered"
    assert delivery.status_codes == [500, 503, 200]
    assert len(kanta.requests) == 3
    assert len({r.headers["X-Shopify-Webhook-Id"] for r in kanta.requests}) == 1
    assert len({r.headers["X-Shopify-Event-Id"] for r in kanta.requests}) == 1
    assert len({r.content for r in kanta.requests}) == 1
    last = kanta.requests[-1]
    assert str(last.url) == f"{APP_URL}/webhooks"
    assert json.loads(last.content) == {"id": 7_000_000_000_000_000_001}
    verified = shopify_app.verify_webhook_req(
        {"method": "POST", "headers": dict(last.headers), "url": str(last.url),
         "body": last.content.decode()},
        CONFIG,
    )  # fmt: skip
    assert verified.ok, verified.log


def test_gives_up_after_the_configured_retries(sender: WebhookSender, kanta: FakeKanta) -> None:
    kanta.script = [500] * 10
    delivery = sender.send("orders/create", SHOP, {"id": 1})
    assert delivery.state == "failed"
    assert len(delivery.attempts) == 4


def test_network_errors_count_as_failures() -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if len(calls) == 2:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(flaky)) as client:
        sender = WebhookSender(client=client, app_url=APP_URL, api_secret=API_SECRET,
                               synchronous=True)  # fmt: skip
        delivery = sender.send("refunds/create", SHOP, {"id": 2})
    assert delivery.status_codes == [None, None, 200]
    assert delivery.attempts[1].error == "timeout (5 s)"


def test_redelivery_reuses_the_webhook_id(sender: WebhookSender, kanta: FakeKanta) -> None:
    first = sender.send("orders/paid", SHOP, {"id": 3})
    again = sender.redeliver(first.id)
    assert again.webhook_id == first.webhook_id
    assert again.redelivery_of == first.id
    assert kanta.requests[0].content == kanta.requests[1].content


def test_duplicate_subscription_shares_event_id_only(kanta: FakeKanta) -> None:
    with httpx.Client(transport=httpx.MockTransport(kanta.handler)) as client:
        sender = WebhookSender(client=client, app_url=APP_URL, api_secret=API_SECRET,
                               synchronous=True, duplicate_subscription=True)  # fmt: skip
        sender.send("orders/paid", SHOP, {"id": 4})
    ids = [
        (r.headers["X-Shopify-Webhook-Id"], r.headers["X-Shopify-Event-Id"]) for r in kanta.requests
    ]
    assert len(ids) == 2
    assert ids[0][0] != ids[1][0]
    assert ids[0][1] == ids[1][1]


def test_async_worker_delivers_and_retries(kanta: FakeKanta) -> None:
    kanta.script = [500]
    with httpx.Client(transport=httpx.MockTransport(kanta.handler)) as client:
        sender = WebhookSender(client=client, app_url=APP_URL, api_secret=API_SECRET,
                               retry_delays=(0.01, 0.01))  # fmt: skip
        sender.start()
        try:
            delivery = sender.send("orders/create", SHOP, {"id": 5})
            deadline = time.monotonic() + 5
            while delivery.state != "delivered" and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            sender.stop()
    assert delivery.status_codes == [500, 200]


def test_unsubscribed_topic_is_refused(sender: WebhookSender) -> None:
    with pytest.raises(ValueError, match="not subscribed"):
        sender.send("products/create", SHOP, {})

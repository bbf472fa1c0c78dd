"""Checkout that remembers, as a shopper sees it in headless Chromium on the real demo.

Ada joins with one tick in the demo store's checkout, orders with PayPal and Express a few
times, and comes back in a new browser session: the widget shows her balance, tier and the
points this cart earns; the app's own Functions (run by Node on the store's lists) have put
PayPal first and marked Express as her usual (it costs more than Standard, so it is renamed,
not moved). Screenshots are saved under ``artifacts/``.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
WIDGET = Path(__file__).resolve().parents[2] / "static" / "kanta-checkout-widget.js"


def test_the_demo_widget_script_is_small() -> None:
    size = len(gzip.compress(WIDGET.read_bytes(), compresslevel=9))
    print(f"\nstatic/kanta-checkout-widget.js: {size} bytes gzipped (limit 10240)")  # noqa: T201
    assert size <= 10 * 1024


def order(page: Page, payment: str, delivery: str) -> None:
    page.locator("#payment-methods label", has_text=payment).locator("input").check()
    page.locator("#delivery-options label", has_text=delivery).locator("input").check()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("placed:")).to_be_visible()


def wait_for_metafield(page: Page, text: str, timeout: float = 20.0) -> None:
    """Webhooks and the sync job run after the order: reload until the store holds the value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in (page.locator("#metafield").text_content() or ""):
            return
        time.sleep(0.3)
        page.reload()
    pytest.fail(f"the customer's metafield never showed {text!r}")


def test_a_returning_shopper_finds_her_usual_payment_and_delivery_first(
    demo: str, page: Page
) -> None:
    page.goto(f"{demo}/devstore/checkout")
    expect(page.locator("#kanta-widget")).to_contain_text("Log in to join")
    page.screenshot(path=str(ARTIFACTS / "checkout-guest.png"), full_page=True)

    page.select_option("#cart-customer select", label="Ada Lovelace")
    page.get_by_role("button", name="Join with one tick").click()
    expect(page.get_by_test_id("balance")).to_have_text("100 points")

    for _ in range(3):
        order(page, "PayPal", "Express")
        # The cart kept Ada: the next order is hers too.
        expect(page.locator("#cart-customer select")).to_have_value(
            page.locator("#cart-customer option", has_text="Ada Lovelace").get_attribute("value")
            or ""
        )
    wait_for_metafield(page, '"points":292')

    # She comes back another day, in a new browser session, and picks herself again.
    context = page.context.browser.new_context(viewport={"width": 1280, "height": 1000})  # type: ignore[union-attr]
    back = context.new_page()
    back.goto(f"{demo}/devstore/checkout")
    back.select_option("#cart-customer select", label="Ada Lovelace")

    widget = back.locator("#kanta-widget")
    expect(back.get_by_test_id("balance")).to_have_text("292 points")  # 100 + 3 × 64
    expect(back.get_by_test_id("tier")).to_contain_text("Bronze")
    expect(back.get_by_test_id("points-for-cart")).to_have_text("This order earns 64 points")
    expect(widget).to_contain_text("308 points to Silver")  # tier points: orders only, 500 − 3 × 64
    expect(back.get_by_test_id("usual")).to_contain_text("PayPal · Express")
    payments = back.locator("#payment-methods label")
    deliveries = back.locator("#delivery-options label")
    expect(payments.first).to_contain_text("PayPal")
    expect(payments.first.locator("input")).to_be_checked()
    # Express costs more than Standard: Shopify keeps the cheapest first, so it is marked.
    expect(deliveries.first).to_contain_text("Standard")
    expect(back.locator("#delivery-options")).to_contain_text("Express · your usual")
    expect(back.locator("#function-operations")).to_contain_text("paymentMethodMove")
    # What the Functions did, as a person reads it (not "\\u00b7").
    expect(back.locator("#function-operations")).to_contain_text("Express · your usual")
    back.screenshot(path=str(ARTIFACTS / "checkout-returning-shopper.png"), full_page=True)
    context.close()


def test_a_member_redeems_points_for_a_code_that_checkout_applies(demo: str, page: Page) -> None:
    page.goto(f"{demo}/devstore/checkout")
    page.select_option("#cart-customer select", label="Grace Hopper")
    page.get_by_role("button", name="Join with one tick").click()
    expect(page.get_by_test_id("balance")).to_have_text("100 points")
    page.get_by_label("Quantity of Cast Iron Teapot").fill("7")  # 7 × 64.00 → 448 points
    order(page, "Credit card", "Standard")
    wait_for_metafield(page, '"points":548')

    page.get_by_role("listitem").filter(has_text="5.00 off").get_by_role("button").click()
    expect(page.locator(".kanta-message")).to_contain_text("is applied")
    code = page.locator("#discount-code").input_value()
    assert code.startswith("KANTA-")
    expect(page.get_by_test_id("balance")).to_have_text("48 points")
    page.screenshot(path=str(ARTIFACTS / "checkout-redeemed-code.png"), full_page=True)

    order(page, "Credit card", "Standard")  # one teapot, the code applied
    expect(page.get_by_text("placed: 68.62 USD")).to_be_visible()  # (64.00 − 5.00) × 1.08 + 4.90

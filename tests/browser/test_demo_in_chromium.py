"""The demo as a person uses it, in headless Chromium: a shopper orders in the demo store, the
merchant opens Kanta in the store's admin and finds the points, then the order is refunded.

Runs on the demo server of `conftest.py`. Screenshots are saved under ``artifacts/``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_an_order_in_the_demo_store_shows_up_as_points_in_the_admin(demo: str, page: Page) -> None:
    page.goto(f"{demo}/devstore/")
    expect(page.get_by_text("Demo store — a local Shopify simulator")).to_be_visible()
    page.select_option("select[name=customer_id]", label="Ada Lovelace — ada.lovelace@example.com")
    page.get_by_role("row", name="Cast Iron Teapot").locator("input").fill("1")
    page.get_by_role("row", name="Bamboo Whisk").locator("input").fill("2")
    page.select_option("select[name=payment_method]", label="PayPal")
    page.get_by_role("button", name="Place order").click()
    paid = page.get_by_role("row").filter(has_text="orders/paid").first
    expect(paid).to_contain_text("ok")
    # Shopify may deliver the same webhook again: Kanta says so and pays nothing twice.
    paid.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_role("row").filter(has_text="redelivery").first).to_contain_text(
        "duplicate delivery"
    )
    page.screenshot(path=str(ARTIFACTS / "demo-storefront.png"), full_page=True)

    # The merchant opens Kanta inside the store's admin: the teapot and whisks earned
    # 64.00 + 2 × 9.90 = 83.80 → 83 points, and her first order made her a member: the
    # 100-point welcome bonus.
    page.goto(f"{demo}/devstore/admin")
    kanta = page.frame_locator("iframe")
    expect(kanta.get_by_text("Demo mode")).to_be_visible()
    ada = kanta.get_by_role("row", name="ada.lovelace@example.com")
    expect(ada.locator("td.num").first).to_have_text("183")
    expect(ada).to_contain_text("Bronze")
    ada.get_by_role("link").click()
    # The member's page tells the story in the merchant's words.
    expect(kanta.get_by_text("Order #1001").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "demo-admin-member.png"), full_page=True)

    # Back in the store, the order is refunded in full: the points go back.
    page.goto(f"{demo}/devstore/")
    page.get_by_text("Refund, cancel or fulfil").first.click()
    page.get_by_role("button", name="Cancel order").first.click()
    expect(page.get_by_text("orders/cancelled").first).to_be_visible()
    # The order's points are reversed; the welcome bonus stays: she is still a member.
    page.goto(f"{demo}/devstore/admin")
    ada = page.frame_locator("iframe").get_by_role("row", name="ada.lovelace@example.com")
    expect(ada.locator("td.num").first).to_have_text("100")

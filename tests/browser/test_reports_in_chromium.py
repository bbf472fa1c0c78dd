"""Analytics, Segments and Import as a merchant meets them in the demo, in headless Chromium.

A few orders are placed in the demo store; then, inside the demo admin, the merchant opens
Analytics (charts drawn), filters a segment, previews an import with a bad row, fixes it and
imports (the progress bar ends at "Imported"). Screenshots go to ``artifacts/``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Frame, Page, expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

BAD_CSV = "email,points,tier\nada.lovelace@example.com,1200,Silver\nnobody@example.com,50,\n"
GOOD_CSV = (
    "email,points,tier\nada.lovelace@example.com,1200,Silver\ngrace.hopper@example.com,300,\n"
)


def order(tab: Page, base: str, customer: str, product: str, quantity: int, payment: str) -> None:
    tab.goto(f"{base}/devstore/")
    tab.select_option("select[name=customer_id]", label=customer)
    tab.get_by_role("row", name=product).locator("input").fill(str(quantity))
    tab.select_option("select[name=payment_method]", label=payment)
    tab.get_by_role("button", name="Place order").click()
    expect(tab.get_by_role("row").filter(has_text="orders/paid").first).to_contain_text("ok")


def app_frame(tab: Page) -> Frame:
    expect(tab.frame_locator("iframe").get_by_text("Demo mode")).to_be_visible()
    return next(f for f in tab.frames if f != tab.main_frame)


def open_in_app(tab: Page, label: str, heading: str) -> Frame:
    frame = tab.frame_locator("iframe")
    frame.locator("nav.app-nav").get_by_role("link", name=label, exact=True).click()
    expect(frame.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    return app_frame(tab)


def shoot(tab: Page, frame: Frame, name: str) -> None:
    """The whole embedded page: the admin's frame is stretched to the app's height first."""
    height = frame.evaluate("document.documentElement.scrollHeight")
    tab.evaluate(f"document.getElementById('app-frame').style.height = '{height + 20}px'")
    tab.screenshot(path=str(ARTIFACTS / name), full_page=True)
    tab.evaluate("document.getElementById('app-frame').style.height = ''")


def test_analytics_segments_and_import_in_the_demo(demo: str, page: Page) -> None:
    order(page, demo, "Ada Lovelace — ada.lovelace@example.com", "Cast Iron Teapot", 1, "PayPal")
    order(page, demo, "Grace Hopper — grace.hopper@example.com", "Ceramic Mug", 2, "Credit card")
    order(page, demo, "Ada Lovelace — ada.lovelace@example.com", "Bamboo Whisk", 3, "PayPal")

    page.goto(f"{demo}/devstore/admin")
    app_frame(page)
    frame = open_in_app(page, "Analytics", "Analytics")
    kanta = page.frame_locator("iframe")
    # 64 + 36 + 29 for the orders, and 100 each for Ada's and Grace's welcome bonuses.
    expect(kanta.locator("[data-figure=points_issued] .metric__value")).to_have_text("329")
    expect(kanta.locator("svg.chart")).to_have_count(3)
    expect(kanta.get_by_text("Order awards (pending included)").first).to_be_visible()
    # The shop's plan and country are read from Shopify in the background: open it again.
    frame = open_in_app(page, "Analytics", "Analytics")
    expect(kanta.get_by_text("Billing country CA")).to_be_visible()
    shoot(page, frame, "analytics.png")

    frame = open_in_app(page, "Segments", "Segments")
    kanta.locator("select[name=product_id]").select_option(label="Cast Iron Teapot")
    kanta.get_by_role("button", name="Show members").click()
    expect(kanta.get_by_role("row", name="ada.lovelace@example.com")).to_be_visible()
    expect(kanta.get_by_role("row", name="grace.hopper@example.com")).to_have_count(0)
    frame = app_frame(page)
    shoot(page, frame, "segments.png")

    frame = open_in_app(page, "Import", "Import balances")
    kanta.locator("textarea[name=csv]").fill(BAD_CSV)
    kanta.get_by_role("button", name="Preview").click()
    expect(kanta.get_by_text("no customer of this shop has this email")).to_be_visible()
    expect(kanta.get_by_role("button", name="Import", exact=True)).to_be_disabled()
    shoot(page, frame, "import-preview-errors.png")

    kanta.locator("textarea[name=csv]").fill(GOOD_CSV)
    kanta.get_by_role("button", name="Preview").click()
    expect(kanta.get_by_text("2 of 2 rows can be imported")).to_be_visible()
    kanta.get_by_role("button", name="Import", exact=True).click()
    expect(kanta.get_by_text("2 balances imported, 1,500 points in all.")).to_be_visible()
    shoot(page, frame, "import.png")

    # The imported balance is in the member's history and in the members list.
    frame = open_in_app(page, "Segments", "Segments")
    expect(kanta.get_by_role("row", name="ada.lovelace@example.com")).to_contain_text("Silver")

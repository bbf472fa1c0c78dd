"""The merchant's admin in headless Chromium, inside the demo store's admin: Program (a refused
value shown next to its field, then a saved change in the history), Members (search) and a
Member (ledger in words, a manual adjustment). Screenshots go to ``artifacts/admin-*.png``."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_demo_in_chromium import ARTIFACTS, demo, page  # noqa: F401  (fixtures)

__all__ = ["demo", "page"]


def test_program_members_and_a_member_in_the_demo_admin(demo: str, page: Page) -> None:  # noqa: F811
    page.goto(f"{demo}/devstore/")
    page.select_option("select[name=customer_id]", label="Ada Lovelace — ada.lovelace@example.com")
    page.get_by_role("row", name="Cast Iron Teapot").locator("input").fill("1")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("row").filter(has_text="orders/paid").first).to_contain_text("ok")

    page.goto(f"{demo}/devstore/admin")
    kanta = page.frame_locator("iframe")
    expect(kanta.get_by_role("row", name="ada.lovelace@example.com")).to_contain_text("64")
    page.screenshot(path=str(ARTIFACTS / "admin-home.png"), full_page=True)
    kanta.get_by_role("link", name="Program").first.click()
    expect(kanta.get_by_role("heading", name="Program")).to_be_visible()
    kanta.get_by_label("Points per 1 USD spent").fill("-2")
    kanta.get_by_role("button", name="Save program").click()
    expect(kanta.locator("[data-error-for=earn_rate]")).to_contain_text("from 0 to 1000")
    page.screenshot(path=str(ARTIFACTS / "admin-program-refused.png"), full_page=True)
    kanta.get_by_label("Points per 1 USD spent").fill("2")
    expect(kanta.locator("[data-example] tbody tr").first).to_contain_text("200")
    kanta.get_by_role("button", name="Save program").click()
    expect(kanta.get_by_role("table", name="Change history")).to_contain_text("earn rate")
    kanta.locator("body").evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "admin-program.png"), full_page=True)

    kanta.get_by_role("link", name="Members").first.click()
    kanta.get_by_label("Search").fill("ada")
    kanta.get_by_role("button", name="Search").click()
    row = kanta.get_by_role("row", name="ada.lovelace@example.com")
    expect(row).to_contain_text("Bronze")
    page.screenshot(path=str(ARTIFACTS / "admin-members.png"), full_page=True)

    row.get_by_role("link").click()
    expect(kanta.get_by_text("Order #1001").first).to_be_visible()
    kanta.get_by_label("Points", exact=True).fill("25")
    kanta.get_by_role("button", name="Adjust balance").click()
    expect(kanta.locator("[data-error-for=reason]")).to_contain_text("a reason is required")
    kanta.get_by_label("Reason").fill("Sorry for the late parcel")
    kanta.get_by_role("button", name="Adjust balance").click()
    expect(kanta.get_by_text("Adjusted by staff: Sorry for the late parcel")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-member.png"), full_page=True)

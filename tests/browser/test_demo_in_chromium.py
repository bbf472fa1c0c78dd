"""The demo as a person uses it, in headless Chromium: a shopper orders in the demo store, the
merchant opens Kanta in the store's admin and finds the points, then the order is refunded.

Starts the real demo (``flask db upgrade``, ``flask demo install``, gunicorn) in a temporary
instance folder. Screenshots are saved under ``artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("KANTA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SHOPIFY_", "DATABASE_URL", "TOKEN_ENCRYPTION_KEY", "KANTA_"))
    }
    env.update(
        {
            "SHOPIFY_APP_URL": base,
            "KANTA_INSTANCE_PATH": str(tmp_path_factory.mktemp("demo-instance")),
        }
    )
    for command in (["db", "upgrade"], ["demo", "install"]):
        subprocess.run(
            [str(bin_dir / "flask"), "--app", "app", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    server = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "--workers=1",
            "--threads=8",
            f"--bind=127.0.0.1:{port}",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the demo server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture
def page() -> Iterator[Page]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/test installs it (apt-get)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        yield page
        browser.close()


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
    ada.click()
    expect(kanta.get_by_text("order award")).to_be_visible()
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

"""The demo server and a headless Chromium page, shared by the browser tests.

``demo`` starts the real demo (``flask db upgrade``, ``flask demo install``, gunicorn) in a
temporary instance folder, once per test module; ``page`` is a fresh Chromium page. Screenshots
go under ``artifacts/`` for a person to look at.
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
from playwright.sync_api import Page, sync_playwright

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
            "KANTA_DEMO": "1",
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

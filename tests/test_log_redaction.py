"""No credential in any log line: the app home's ``id_token`` and ``hmac`` query parameters
(also when a browser repeats them in ``Referer``), bearer tokens and webhook signatures."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from flask import Flask

from plugin.log_redaction import REDACTED, redact
from tests.conftest import SHOP, test_env
from tests.harness import gunicorn

SECRETS = ("eyJSECRET1.payload.sig", "SECRET2hmac", "SECRET3referer", "SECRET4bearer")


def test_gunicorns_access_log_never_writes_a_token(database_url: str, tmp_path: Path) -> None:
    """gunicorn as deployed (it reads gunicorn.conf.py from the repository root), with its
    default access log format, which includes the request line and Referer."""
    log = tmp_path / "access.log"
    with gunicorn(test_env(database_url), workers=1, args=[f"--access-logfile={log}"]) as server:
        httpx.get(
            f"{server.base}/",
            params={"embedded": "1", "shop": SHOP, "id_token": SECRETS[0], "hmac": SECRETS[1]},
            headers={
                "Referer": f"https://admin.shopify.com/store/x/apps/kanta?id_token={SECRETS[2]}",
                "Authorization": f"Bearer {SECRETS[3]}",
            },
            timeout=10,
        )
        httpx.get(f"{server.base}/healthz", timeout=10)
    text = log.read_text()

    assert "GET /?embedded=1&shop=shop-one.myshopify.com&id_token=" in text
    assert "GET /healthz" in text  # every request is still logged
    assert text.count(REDACTED) >= 3
    for secret in SECRETS:
        assert secret not in text


def test_werkzeugs_request_log_is_redacted(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("werkzeug").info(
        '127.0.0.1 - - "%s" 200 -', f"GET /?id_token={SECRETS[0]}&shop={SHOP} HTTP/1.1"
    )
    assert SECRETS[0] not in caplog.text
    assert f"id_token={REDACTED}&shop={SHOP}" in caplog.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/?id_token=a.b.c&shop=s", f"/?id_token={REDACTED}&shop=s"),
        ("/x?hmac=ff&timestamp=1", f"/x?hmac={REDACTED}&timestamp=1"),
        ("/cb?code=abc&state=1", f"/cb?code={REDACTED}&state=1"),
        ("?session=1;access_token=shpat", f"?session={REDACTED};access_token={REDACTED}"),
        (
            "/p?shopify-reload=%2F%3Fid_token%3Dabc%26s%3D1",
            f"/p?shopify-reload=%2F%3Fid_token%3D{REDACTED}%26s%3D1",
        ),
        ("/?shop=s&host=YWJj", "/?shop=s&host=YWJj"),
        ("no query at all", "no query at all"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected

"""Start-up configuration: a bad production deploy stops with one line naming what is missing;
the demo runs only when asked for (``KANTA_DEMO=1``); secrets never show in a repr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app import CONFIG_ERROR_EXIT, create_app
from plugin.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
FULL_ENV = {
    "SHOPIFY_API_KEY": "key",
    "SHOPIFY_API_SECRET": "s3cret-value",
    "SHOPIFY_APP_URL": "https://kanta.example",
    "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
}


def without(name: str) -> dict[str, str]:
    return {k: v for k, v in FULL_ENV.items() if k != name}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (without("SHOPIFY_API_SECRET"), "SHOPIFY_API_SECRET"),
        (without("SHOPIFY_APP_URL"), "SHOPIFY_APP_URL"),
        (without("TOKEN_ENCRYPTION_KEY"), "TOKEN_ENCRYPTION_KEY"),
        ({**FULL_ENV, "TOKEN_ENCRYPTION_KEY": "not-a-fernet-key"}, "TOKEN_ENCRYPTION_KEY"),
        ({**FULL_ENV, "SHOPIFY_API_SECRET": "   "}, "SHOPIFY_API_SECRET"),
        (without("SHOPIFY_API_KEY"), "SHOPIFY_API_KEY"),
        ({}, "SHOPIFY_API_KEY"),  # no credentials at all is a bad deploy, not the demo
        ({"SHOPIFY_API_KEY_TYPO": "key", "DATABASE_URL": "sqlite://"}, "SHOPIFY_API_KEY"),
        ({**FULL_ENV, "KANTA_DEMO": "yes"}, "KANTA_DEMO"),
        ({**FULL_ENV, "KANTA_DB_TIMEOUT": "soon"}, "KANTA_DB_TIMEOUT"),
        ({**FULL_ENV, "KANTA_DB_TIMEOUT": "0"}, "KANTA_DB_TIMEOUT"),
        ({**FULL_ENV, "KANTA_DEMO": "1"}, "SHOPIFY_API_KEY"),  # the demo never takes real ones
    ],
)
def test_missing_setting_stops_start_up_with_one_line(
    env: dict[str, str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        create_app({"KANTA_ENV": env, "INSTANCE_PATH": str(tmp_path)})

    assert stopped.value.code == CONFIG_ERROR_EXIT != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert named in err
    assert "Traceback" not in err
    assert stopped.value.__cause__ is None
    assert stopped.value.__suppress_context__


def test_gunicorn_stops_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "SHOPIFY_API_KEY": "x",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"

    result = subprocess.run(
        [str(gunicorn), "--bind", "127.0.0.1:0", "--workers", "1", "app:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert result.returncode != 0
    assert "SHOPIFY_API_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
    assert "App failed to load" in result.stderr  # stopped, not rebooting workers forever


def test_gunicorn_without_any_credentials_stops_instead_of_starting_the_demo(
    tmp_path: Path,
) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "KANTA_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"

    result = subprocess.run(
        [str(gunicorn), "--bind", "127.0.0.1:0", "--workers", "1", "app:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert result.returncode != 0
    assert "SHOPIFY_API_KEY is required" in result.stderr
    assert "DEMO mode" not in result.stderr
    assert "App failed to load" in result.stderr
    assert not (tmp_path / "instance" / "demo-credentials.json").exists()


def test_demo_mode_is_asked_for_with_kanta_demo(tmp_path: Path) -> None:
    settings = load_settings({"KANTA_DEMO": "1"}, tmp_path)

    assert settings.demo
    assert settings.shopify_api_base_url == "http://devstore.local"
    # The generated development credentials are kept for the next start.
    assert load_settings({"KANTA_DEMO": "1"}, tmp_path).api_secret == settings.api_secret


def test_secret_without_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        create_app({"KANTA_ENV": {"SHOPIFY_API_SECRET": "x"}, "INSTANCE_PATH": str(tmp_path)})
    assert "SHOPIFY_API_KEY" in capsys.readouterr().err


def test_settings_repr_never_shows_secrets(tmp_path: Path) -> None:
    env = {**FULL_ENV, "DATABASE_URL": "postgresql://kanta:dbpass@db.internal/kanta"}
    settings = load_settings(env, tmp_path)

    text = repr(settings) + str(settings)

    assert "s3cret-value" not in text
    assert FULL_ENV["TOKEN_ENCRYPTION_KEY"] not in text
    assert "dbpass" not in text
    assert "key" in text
    demo = load_settings({"KANTA_DEMO": "1"}, tmp_path)
    assert demo.api_secret not in repr(demo)
    assert demo.token_encryption_key not in repr(demo)


def test_behind_a_proxy_the_forwarded_scheme_and_host_are_trusted(tmp_path: Path) -> None:
    from flask import request

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "KANTA_ENV": {**FULL_ENV, "KANTA_PROXY_HOPS": "1"},
        }
    )

    @app.get("/_url")
    def _url() -> str:
        return request.url

    seen = app.test_client().get(
        "/_url", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "kanta.example.com"}
    )
    assert seen.get_data(as_text=True) == "https://kanta.example.com/_url"


def test_a_bad_proxy_hop_count_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        create_app(
            {"INSTANCE_PATH": str(tmp_path), "KANTA_ENV": {**FULL_ENV, "KANTA_PROXY_HOPS": "x"}}
        )

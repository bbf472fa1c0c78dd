"""Configuration read from the environment, validated once at start-up.

Two modes:

- **production** (the default): every secret is required; a missing one stops start-up with a
  one-line message naming it. There are no defaults for secrets.
- **demo** (only when asked for, ``KANTA_DEMO=1``, as ``scripts/demo`` does): the app runs against
  the local simulator (``devstore``) with development credentials generated once and kept under
  ``instance/``; every page says so. Never implied by missing credentials: a misspelt
  ``SHOPIFY_API_KEY`` must not start a simulator with ``/devstore/`` open to anyone.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

DEMO_SHOP_DOMAIN = "kanta-demo.myshopify.com"
DEMO_API_KEY = "kanta-demo-api-key"
DEFAULT_API_VERSION = "2026-04"


class ConfigError(Exception):
    """A configuration problem that must stop start-up, with a one-line message."""


@dataclass(frozen=True)
class Settings:
    api_key: str
    api_secret: str
    app_url: str
    database_url: str
    token_encryption_key: str
    redis_url: str | None
    demo: bool
    api_version: str = DEFAULT_API_VERSION
    old_api_secret: str | None = None
    # Where Admin API and OAuth calls go. None means Shopify itself; the demo and the tests set it
    # to the local simulator. Production code never branches on demo-ness for this: it is only a
    # base URL given to the HTTP client.
    shopify_api_base_url: str | None = None
    scopes: str = "read_orders,read_customers,write_customers,write_discounts"
    # Every body Shopify can send: a 1,000-line order is about 1.7 MB in the demo store's shape
    # and the refund of all of it about 2 MB (each refund line repeats its whole line item), so
    # 8 MiB leaves room for long properties and many tax lines. The intake reads the body in
    # chunks up to this limit, so memory stays bounded; 413 above it.
    max_webhook_bytes: int = 8 * 1024 * 1024
    run_jobs_in_process: bool = True
    # Reverse proxies in front of the app (TLS terminators) whose X-Forwarded-* headers to trust.
    proxy_hops: int = 0
    # Seconds any one wait on PostgreSQL may take (see plugin.db), KANTA_DB_TIMEOUT.
    db_timeout: float = 2.0

    def __repr__(self) -> str:  # never print secrets, even by accident in a traceback
        return (
            f"Settings(api_key={self.api_key!r}, app_url={self.app_url!r}, demo={self.demo}, "
            f"database_url={_redact_url(self.database_url)!r})"
        )


def _redact_url(url: str) -> str:
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required (KANTA_DEMO=1 runs the local demo instead)")
    return value


def _check_fernet_key(key: str) -> None:
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        raise ConfigError(
            "TOKEN_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'kanta.sqlite3'}"


def load_settings(env: Mapping[str, str], instance_path: Path) -> Settings:
    """Build the settings from an environment mapping; raise ``ConfigError`` on any problem."""
    database_url = env.get("DATABASE_URL", "").strip() or default_database_url(instance_path)
    redis_url = env.get("REDIS_URL", "").strip() or None
    api_version = env.get("SHOPIFY_API_VERSION", "").strip() or DEFAULT_API_VERSION
    base_url = env.get("SHOPIFY_API_BASE_URL", "").strip() or None
    in_process = env.get("KANTA_JOBS", "").strip().lower() != "celery"
    hops_text = env.get("KANTA_PROXY_HOPS", "").strip() or "0"
    if not (hops_text.isascii() and hops_text.isdigit()):
        raise ConfigError("KANTA_PROXY_HOPS must be a whole number (proxies in front of the app)")
    proxy_hops = int(hops_text)
    db_timeout = _db_timeout(env.get("KANTA_DB_TIMEOUT", "").strip() or "2")

    demo = env.get("KANTA_DEMO", "").strip()
    if demo not in ("", "0", "1"):
        raise ConfigError("KANTA_DEMO must be 1 (the local demo) or unset")
    if demo != "1":
        key = _required(env, "SHOPIFY_API_KEY")
        secret = _required(env, "SHOPIFY_API_SECRET")
        app_url = _required(env, "SHOPIFY_APP_URL").rstrip("/")
        fernet_key = _required(env, "TOKEN_ENCRYPTION_KEY")
        _check_fernet_key(fernet_key)
        return Settings(
            api_key=key,
            api_secret=secret,
            old_api_secret=env.get("SHOPIFY_API_SECRET_OLD", "").strip() or None,
            app_url=app_url,
            database_url=database_url,
            token_encryption_key=fernet_key,
            redis_url=redis_url,
            demo=False,
            api_version=api_version,
            shopify_api_base_url=base_url,
            run_jobs_in_process=in_process,
            proxy_hops=proxy_hops,
            db_timeout=db_timeout,
        )

    for name in ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "TOKEN_ENCRYPTION_KEY"):
        if env.get(name, "").strip():
            raise ConfigError(
                f"KANTA_DEMO=1 runs the local demo with its own credentials: unset {name}"
            )
    dev = _demo_credentials(instance_path)
    app_url = (env.get("SHOPIFY_APP_URL", "").strip() or "http://127.0.0.1:5000").rstrip("/")
    return Settings(
        api_key=DEMO_API_KEY,
        api_secret=dev["api_secret"],
        app_url=app_url,
        database_url=database_url,
        token_encryption_key=dev["token_encryption_key"],
        redis_url=redis_url,
        demo=True,
        api_version=api_version,
        shopify_api_base_url=base_url or "http://devstore.local",
        run_jobs_in_process=in_process,
        db_timeout=db_timeout,
    )


def _db_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.1 <= value <= 600:
        raise ConfigError("KANTA_DB_TIMEOUT must be a number of seconds from 0.1 to 600")
    return value


def _demo_credentials(instance_path: Path) -> dict[str, str]:
    """Development credentials, generated on first use and kept so restarts keep working."""
    path = instance_path / "demo-credentials.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    instance_path.mkdir(parents=True, exist_ok=True)
    data = {
        "api_secret": secrets.token_hex(32),
        "token_encryption_key": Fernet.generate_key().decode(),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return data

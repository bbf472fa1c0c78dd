"""Demo mode: Kanta and the local Shopify simulator (``devstore``) in one process.

Everything is wired by configuration, the production code paths unchanged:

- the devstore's web app is mounted at ``/devstore`` (werkzeug ``DispatcherMiddleware``);
- Kanta's Shopify gateway sends its token and GraphQL requests to that app in-process
  (``httpx.WSGITransport`` behind the base-URL rewrite from ``SHOPIFY_API_BASE_URL``);
- the devstore's webhook sender posts to Kanta's ``/webhooks`` in-process too, from its one
  worker thread, so a single-worker server never waits on itself.

``flask --app app demo install`` installs Kanta on the demo shop the way Shopify does: the
admin marks the app installed and loads the app home with a session token, which Kanta
exchanges for an offline token.
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click
import httpx
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from .runtime import kanta
from .settings import DEMO_SHOP_DOMAIN

if TYPE_CHECKING:
    from devstore.store import DevStore

log = logging.getLogger(__name__)

DEVSTORE_PREFIX = "/devstore"


def mount_devstore(app: Flask) -> None:
    from devstore.store import DevStore
    from devstore.web import create_devstore_app
    from devstore.webhooks import WebhookSender

    k = app.extensions["kanta"]
    settings = k.settings
    store = DevStore(
        api_key=settings.api_key,
        api_secret=settings.api_secret,
        shop_domain=DEMO_SHOP_DOMAIN,
        state_path=Path(app.instance_path) / "devstore.json",
    )
    # Webhooks enter Kanta exactly as Shopify's would, but in-process (no socket, no deadlock).
    kanta_wsgi = app.wsgi_app
    sender = WebhookSender(
        client=httpx.Client(transport=httpx.WSGITransport(app=kanta_wsgi)),
        app_url=settings.app_url,
        api_secret=settings.api_secret,
        api_version=settings.api_version,
        synchronous=False,
    )
    devstore_app = create_devstore_app(
        store,
        sender,
        app_url=settings.app_url,
        api_key=settings.api_key,
        api_secret=settings.api_secret,
    )
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        kanta_wsgi, {DEVSTORE_PREFIX: devstore_app}
    )
    k.shopify.set_transport(httpx.WSGITransport(app=devstore_app))
    sender.start()
    atexit.register(sender.stop)
    k.extras["devstore"] = store
    k.extras["webhook_sender"] = sender
    app.cli.add_command(demo_group)


def demo_store() -> DevStore:
    store: DevStore = kanta().extras["devstore"]
    return store


@click.group("demo", cls=AppGroup, help="The local demo store (demo mode only).")
def demo_group() -> None:
    pass


@demo_group.command("install")
def demo_install() -> None:
    """Install Kanta on the demo shop through the real install path (token exchange)."""
    from devstore.web import app_load_url

    from .cli import upgrade_database

    k = kanta()
    upgrade_database(k)  # idempotent: a fresh demo needs its tables
    store = demo_store()
    store.install_app(DEMO_SHOP_DOMAIN)
    # What the admin does when the merchant opens the app: load the app home with an ID token.
    url = httpx.URL(app_load_url(store, app_url=k.settings.app_url, shop_domain=DEMO_SHOP_DOMAIN))
    response = current_app.test_client().get(url.raw_path.decode())
    if response.status_code != 200:
        raise click.ClickException(
            f"the app home answered {response.status_code}; see the log above for why"
        )
    click.echo(f"Kanta is installed on {DEMO_SHOP_DOMAIN}.")
    click.echo(f"Open {k.settings.app_url}{DEVSTORE_PREFIX}/")

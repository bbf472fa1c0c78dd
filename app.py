"""Kanta's application factory. Nothing happens at import: ``create_app()`` builds the app.

gunicorn 'app:create_app()'        production (KANTA_DEMO=1: the local demo, as scripts/demo)
python app.py                      development server
flask --app app db upgrade         create or upgrade the schema
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

# Exit status for a configuration error. 4 is what gunicorn's arbiter calls APP_LOAD_ERROR: it
# then stops with "App failed to load." instead of rebooting workers that can never start.
CONFIG_ERROR_EXIT = 4


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    from plugin.settings import ConfigError, load_settings

    config = dict(test_config or {})
    env: Mapping[str, str] = config.pop("KANTA_ENV", os.environ)
    # Where the embedded database and the demo's generated credentials live (default: instance/).
    instance_path = config.pop("INSTANCE_PATH", None) or env.get("KANTA_INSTANCE_PATH") or None
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.update(config)
    try:
        settings = load_settings(env, Path(app.instance_path))
    except ConfigError as error:
        # One line, no stack trace: a bad deploy should say exactly what is missing.
        sys.stderr.write(f"kanta: configuration error: {error}\n")
        sys.stderr.flush()
        raise SystemExit(CONFIG_ERROR_EXIT) from None

    configure_logging(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_webhook_bytes
    register_extensions(app, settings, config)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    if settings.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a TLS-terminating proxy, request.url must say https for shopifyapp's redirects.
        n = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    if settings.demo:
        from plugin.demo import mount_devstore

        mount_devstore(app)
        app.logger.warning(
            "Kanta is running in DEMO mode (KANTA_DEMO=1) against the local demo store. "
            "Open %s/devstore/",
            settings.app_url,
        )
    return app


def configure_logging(app: Flask) -> None:
    from plugin.log_redaction import install_log_redaction

    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    install_log_redaction()


def register_extensions(app: Flask, settings: Any, config: dict[str, Any]) -> None:
    from plugin.crypto import TokenCipher
    from plugin.db import Database
    from plugin.jobs import ThreadJobs, build_job_queue
    from plugin.runtime import Kanta, init_app
    from plugin.shopify.gateway import ShopifyGateway

    db = Database(settings.database_url, timeout=settings.db_timeout)
    cipher = TokenCipher(settings.token_encryption_key)
    shopify = ShopifyGateway(settings, transport=config.get("SHOPIFY_TRANSPORT"))
    kanta = Kanta(settings=settings, db=db, cipher=cipher, shopify=shopify)
    if "CLOCK" in config:
        kanta.clock = config["CLOCK"]
    kanta.jobs = build_job_queue(kanta, eager=bool(app.testing))
    if isinstance(kanta.jobs, ThreadJobs):
        # The in-process scheduler starts with the first request a server handles (a cheap
        # check afterwards), so CLI commands never start threads.
        app.before_request(kanta.jobs.ensure_schedule)
    init_app(app, kanta)


def register_blueprints(app: Flask) -> None:
    from plugin.admin import register_admin
    from plugin.checkout import bp as checkout_api
    from webhooks import install as install_webhooks

    install_webhooks(app)
    register_admin(app)
    app.register_blueprint(checkout_api)


def register_errorhandlers(app: Flask) -> None:
    from plugin.http import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    from plugin.cli import register_cli

    register_cli(app)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    # The demo's URL (printed, and framed by the demo admin) must be the port served here.
    os.environ.setdefault("SHOPIFY_APP_URL", f"http://127.0.0.1:{port}")
    create_app().run(host="127.0.0.1", port=port, threaded=True)

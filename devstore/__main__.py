"""Run the devstore for the demo: ``python -m devstore``.

Configuration comes from the environment, with no defaults for secrets so a misconfigured demo
fails at start-up: ``SHOPIFY_API_KEY``, ``SHOPIFY_API_SECRET`` (required), ``KANTA_APP_URL``
(default ``http://127.0.0.1:5000``), ``DEVSTORE_PORT`` (default 5050), ``DEVSTORE_STATE``
(default ``instance/devstore.json``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx

from devstore.store import DevStore
from devstore.web import create_devstore_app
from devstore.webhooks import WebhookSender


def main() -> int:
    try:
        api_key = os.environ["SHOPIFY_API_KEY"]
        api_secret = os.environ["SHOPIFY_API_SECRET"]
    except KeyError as missing:
        sys.stderr.write(f"devstore: set {missing.args[0]} in the environment\n")
        return 2
    app_url = os.environ.get("KANTA_APP_URL", "http://127.0.0.1:5000")
    port = int(os.environ.get("DEVSTORE_PORT", "5050"))
    state = Path(os.environ.get("DEVSTORE_STATE", "instance/devstore.json"))
    store = DevStore(api_key=api_key, api_secret=api_secret, state_path=state)
    with httpx.Client() as client:
        sender = WebhookSender(client=client, app_url=app_url, api_secret=api_secret)
        app = create_devstore_app(
            store, sender, app_url=app_url, api_key=api_key, api_secret=api_secret
        )
        sender.start()
        try:
            app.run(host="127.0.0.1", port=port, threaded=True, use_reloader=False)
        finally:
            sender.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The baseline every benchmark is measured against: Flask hello-world under the same gunicorn."""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks")
    def hello() -> str:
        return "ok"

    return app

"""The baseline every benchmark is measured against: Flask hello-world under the same gunicorn."""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks")
    def hello() -> str:
        return "ok"

    @app.get("/api/<path:endpoint>")
    def hello_get(endpoint: str) -> str:
        # The GET endpoints' baseline (widget, admin lists): same routing depth, no work.
        return "ok"

    return app

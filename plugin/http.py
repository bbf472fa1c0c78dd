"""HTTP conventions shared by the blueprints: JSON errors, never a stack trace in a response."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def json_error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": message, **extra}), status


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks"))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if _wants_json():
            response, status = json_error(error.code or 500, error.description or error.name)
            # Keep the exception's own headers (a 405's Allow, RFC 9110), not its content type.
            for name, value in error.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response, status
        return error

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        # Logged with its traceback for us; the client sees a plain message only.
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return json_error(500, "internal error")
        return Response("Internal error", status=500, mimetype="text/plain")

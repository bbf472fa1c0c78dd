"""Credentials never reach a log line: the app home's URLs carry ``id_token`` and ``hmac`` in
their query (and browsers repeat them in ``Referer``), OAuth callbacks a ``code``.

``redact`` replaces the value of every such query parameter with ``[REDACTED]`` wherever it
appears in a text. gunicorn's access log goes through ``RedactingLogger`` (set in
``gunicorn.conf.py``, which gunicorn reads from the working directory), whatever
``access_log_format`` says: every atom is redacted, and credential headers (``Authorization``,
``Cookie``, the webhook HMAC) are dropped whole. ``RedactingFilter`` does the same for records of
Python's logging (Werkzeug's development server writes request lines there).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from gunicorn.glogging import Logger

REDACTED = "[REDACTED]"
# Query parameters whose value is a credential: exact names, and any name with "token" in it.
_SECRET_PARAM = re.compile(
    r"(?i)((?:^|[?&;]|%3F|%26)"  # start of a parameter, also percent-encoded (a reload URL)
    r"(?:[a-z0-9_.-]*token[a-z0-9_.-]*|hmac|signature|session|code|password|secret)"
    r"(?:=|%3D))"
    r"[^&;\s\"'#]*?(?=$|[&;\s\"'#]|%26)"
)
_SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-shopify-hmac-sha256", "x-shopify-access-token"}
)


def redact(text: str) -> str:
    """``text`` with the value of every credential query parameter replaced."""
    if "=" not in text and "%3D" not in text.upper():
        return text
    return _SECRET_PARAM.sub(r"\g<1>" + REDACTED, text)


def redact_atoms(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """gunicorn's access log atoms, redacted (``{name}i``/``o``/``e`` are headers, environ)."""
    clean: dict[str, Any] = {}
    for key, value in atoms.items():
        name = key[1:-2] if key.startswith("{") and key[-2:] in ("}i", "}o", "}e") else ""
        if name.removeprefix("http_").replace("_", "-") in _SECRET_HEADERS:
            clean[key] = REDACTED
        elif isinstance(value, str):
            clean[key] = redact(value)
        else:
            clean[key] = value
    return clean


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with every access log atom passed through ``redact_atoms``."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        return redact_atoms(super().atoms(resp, req, environ, request_time))


class RedactingFilter(logging.Filter):
    """Redacts the formatted message of every record it sees (attach it to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Redact every handler of the root logger and Werkzeug's request log."""
    redacting = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug.filters):
        werkzeug.addFilter(redacting)

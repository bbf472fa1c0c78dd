"""Query arguments of the admin API: a parameter the operation does not know is refused (422)
rather than ignored, so a mistyped filter never answers with everything."""

from __future__ import annotations

from collections.abc import Iterable

from flask import request


def unknown_arguments(allowed: Iterable[str]) -> dict[str, str]:
    known = set(allowed)
    return {
        name[:64]: "is not a parameter of this request"
        for name in request.args
        if name not in known
    }

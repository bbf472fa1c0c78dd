"""Demo wiring (placeholder until the demo store lands)."""

from __future__ import annotations

from flask import Flask


def mount_devstore(app: Flask) -> None:
    return None

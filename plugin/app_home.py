"""The embedded app home (placeholder until the install work lands)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("app_home", __name__)

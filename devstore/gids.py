"""Shopify global ids (``gid://shopify/Customer/123``), as the Admin GraphQL answers read them."""

from __future__ import annotations

from typing import Any


def gid_id(gid: Any, kind: str) -> int | None:
    """The numeric id of a ``gid://shopify/<kind>/<id>``; None for anything else."""
    if not isinstance(gid, str):
        return None
    prefix = f"gid://shopify/{kind}/"
    raw = gid.removeprefix(prefix)
    return int(raw) if gid.startswith(prefix) and raw.isdigit() else None

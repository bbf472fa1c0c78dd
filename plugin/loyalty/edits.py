"""What an ``orders/edited`` payload says: which line items an edit changed, by how many units.

The payload is an ``order_edit`` object, not an order: ``line_items.additions`` and
``line_items.removals`` list ``{id, delta}`` without prices. Removals are enough to reverse the
removed units; additions are priced by the ``orders/updated`` Shopify sends for the same edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .money import PayloadError, shopify_id


@dataclass(frozen=True)
class OrderEditFacts:
    edit_id: int
    order_id: int
    removals: tuple[tuple[int, int], ...]  # (line_item_id, units removed)
    additions: tuple[tuple[int, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "removals": [list(r) for r in self.removals],
            "additions": [list(a) for a in self.additions],
        }

    @classmethod
    def from_json(cls, edit_id: int, order_id: int, data: Mapping[str, Any]) -> OrderEditFacts:
        return cls(
            edit_id,
            order_id,
            tuple((int(i), int(d)) for i, d in data.get("removals", [])),
            tuple((int(i), int(d)) for i, d in data.get("additions", [])),
        )


def parse_order_edit(payload: Mapping[str, Any]) -> OrderEditFacts:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("order_edit"), Mapping):
        raise PayloadError("orders/edited payload must carry an order_edit object")
    edit = payload["order_edit"]
    items = edit.get("line_items") or {}
    if not isinstance(items, Mapping):
        raise PayloadError("order_edit.line_items must be an object")
    return OrderEditFacts(
        edit_id=shopify_id(edit.get("id"), "order_edit.id"),
        order_id=shopify_id(edit.get("order_id"), "order_edit.order_id"),
        removals=_deltas(items.get("removals"), "removals"),
        additions=_deltas(items.get("additions"), "additions"),
    )


def _deltas(raw: Any, field: str) -> tuple[tuple[int, int], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PayloadError(f"order_edit.line_items.{field} must be a list")
    result: list[tuple[int, int]] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise PayloadError(f"order_edit.line_items.{field} entries must be objects")
        delta = item.get("delta")
        if not isinstance(delta, int) or isinstance(delta, bool) or not 0 <= delta < 10**6:
            raise PayloadError(f"order_edit.line_items.{field}.delta must be a whole number")
        result.append((shopify_id(item.get("id"), f"order_edit.line_items.{field}.id"), delta))
    return tuple(result)

"""What each order sold, kept for segments ("bought the teapot", "bought from Tea").

Called by the order webhooks' handler in the intake's transaction, right after the ledger has
recorded the order: one upsert of the payload's lines per delivery. The line's product and
variant ids are Shopify's; who bought them is the order's customer, read through ``orders``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from .db import insert_for
from .models import OrderLine, Shop


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 < value < 2**63 else None


def line_rows(
    shop_id: int, shopify_order_id: int, payload: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The payload's lines as ``order_lines`` rows (product, variant, title, quantity).

    ``parse_order`` has already refused a payload whose lines are malformed, so anything odd here
    (a line without a product: a custom item) is kept with a null product, never an error.
    """
    raw_lines = payload.get("line_items")
    rows = []
    for item in raw_lines if isinstance(raw_lines, list) else []:
        if not isinstance(item, Mapping):
            continue
        line_id = _id(item.get("id"))
        if line_id is None:
            continue
        quantity = item.get("quantity")
        title = item.get("title")
        rows.append(
            {
                "shop_id": shop_id,
                "shopify_order_id": shopify_order_id,
                "line_id": line_id,
                "product_id": _id(item.get("product_id")),
                "variant_id": _id(item.get("variant_id")),
                "title": str(title)[:255] if title is not None else None,
                "quantity": quantity if isinstance(quantity, int) and quantity >= 0 else 0,
            }
        )
    return rows


def record_order_lines(
    session: Session, shop: Shop, shopify_order_id: int, payload: Mapping[str, Any]
) -> int:
    """Upsert the order's lines; returns how many."""
    rows = line_rows(shop.id, shopify_order_id, payload)
    if not rows:
        return 0
    stmt = insert_for(session, OrderLine)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["shop_id", "shopify_order_id", "line_id"],
            set_={
                "product_id": stmt.excluded.product_id,
                "variant_id": stmt.excluded.variant_id,
                "title": stmt.excluded.title,
                "quantity": stmt.excluded.quantity,
            },
        ),
        rows,
    )
    return len(rows)

"""What an order event keeps of its payload: the facts an award needs, as JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..loyalty.orders import (
    LineFacts,
    OrderFacts,
    ShippingFacts,
)


def facts_json(facts: OrderFacts) -> dict[str, Any]:
    """What an award needs from the paying payload, kept with the event."""
    return {
        "is_test": facts.is_test,
        "has_customer": facts.customer is not None,
        "taxes_included": facts.taxes_included,
        "currency": facts.currency,
        "name": facts.name,
        "source_name": facts.source_name,
        "lines": [
            [ln.line_id, ln.quantity, ln.gift_card, str(ln.net), str(ln.tax)] for ln in facts.lines
        ],
        "shipping": [[s.kind, str(s.net), str(s.tax)] for s in facts.shipping],
    }


def facts_from_json(order_id: int, data: dict[str, Any]) -> OrderFacts:
    return OrderFacts(
        order_id=order_id,
        name=data.get("name"),
        customer=None,
        is_test=bool(data.get("is_test")),
        source_name=data.get("source_name"),
        currency=data.get("currency"),
        taxes_included=bool(data.get("taxes_included")),
        total_price=None,
        lines=tuple(
            LineFacts(int(i), int(q), bool(g), Decimal(n), Decimal(t))
            for i, q, g, n, t in data.get("lines", [])
        ),
        shipping=tuple(
            ShippingFacts(None, None, None, k, Decimal(n), Decimal(t))
            for k, n, t in data.get("shipping", [])
        ),
        payment_gateway=None,
    )

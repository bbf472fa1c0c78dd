"""What an order event keeps of its payload: the facts an award and a settlement need, as JSON."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ..loyalty.orders import (
    CustomerFacts,
    LineFacts,
    OrderFacts,
    ShippingFacts,
)


def facts_json(facts: OrderFacts) -> dict[str, Any]:
    """What an award needs from the paying payload, kept with the event."""
    customer = facts.customer
    return {
        "is_test": facts.is_test,
        "has_customer": customer is not None,
        # Who earns is decided by the paying payload (not by whichever payload came first).
        "customer": None
        if customer is None
        else [customer.shopify_id, customer.email, customer.first_name, customer.last_name],
        "taxes_included": facts.taxes_included,
        "currency": facts.currency,
        "name": facts.name,
        "source_name": facts.source_name,
        "financial_status": facts.financial_status,
        "processed_at": facts.processed_at.isoformat() if facts.processed_at else None,
        "lines": [
            [
                ln.line_id,
                ln.quantity,
                ln.gift_card,
                str(ln.net),
                str(ln.tax),
                ln.tip,
                ln.current_quantity,
                ln.refunded_in_payload,
            ]
            for ln in facts.lines
        ],
        "shipping": [[s.kind, str(s.net), str(s.tax)] for s in facts.shipping],
    }


def _line(raw: list[Any]) -> LineFacts:
    line_id, quantity, gift, net, tax = raw[:5]
    extra = list(raw[5:]) + [False, None, None][len(raw) - 5 :]  # events from before the extras
    tip, current, listed = extra[:3]
    return LineFacts(
        int(line_id),
        int(quantity),
        bool(gift),
        Decimal(net),
        Decimal(tax),
        tip=bool(tip),
        current_quantity=None if current is None else int(current),
        refunded_in_payload=None if listed is None else int(listed),
    )


def facts_from_json(order_id: int, data: dict[str, Any]) -> OrderFacts:
    raw_customer = data.get("customer")
    processed = data.get("processed_at")
    return OrderFacts(
        order_id=order_id,
        name=data.get("name"),
        customer=None
        if not raw_customer
        else CustomerFacts(int(raw_customer[0]), *raw_customer[1:4]),
        is_test=bool(data.get("is_test")),
        source_name=data.get("source_name"),
        currency=data.get("currency"),
        taxes_included=bool(data.get("taxes_included")),
        total_price=None,
        lines=tuple(_line(raw) for raw in data.get("lines", [])),
        shipping=tuple(
            ShippingFacts(None, None, None, k, Decimal(n), Decimal(t))
            for k, n, t in data.get("shipping", [])
        ),
        payment_gateway=None,
        financial_status=data.get("financial_status"),
        processed_at=datetime.fromisoformat(processed) if processed else None,
    )

"""Refunds and cancellations: the REST Refund object, and the order as it stands after one."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from decimal import Decimal

from .amounts import (
    DEFAULT_LOCATION_ID,
    JSON,
    NIL,
    ZERO,
    Amount,
    Currencies,
    cents,
    currencies_of,
    derive_id,
    money,
    read_amount,
    sum_amounts,
    ts,
)


def _line_net(line: JSON) -> Amount:
    gross_unit = read_amount(line["price_set"])
    gross = Amount(gross_unit.shop * line["quantity"], gross_unit.presentment * line["quantity"])
    discounts = sum_amounts([read_amount(a["amount_set"]) for a in line["discount_allocations"]])
    return gross - discounts


def _line_tax(line: JSON) -> Amount:
    return sum_amounts([read_amount(t["price_set"]) for t in line["tax_lines"]])


def _share(value: Amount, part: int, whole: int) -> Amount:
    if part == whole:
        return value  # refunding the whole line returns exactly what was paid, no rounding drift
    return Amount(cents(value.shop * part / whole), cents(value.presentment * part / whole))


def _refund_lines(order: JSON, lines: list[tuple[int, int]]) -> list[tuple[JSON, int]]:
    by_id = {line["id"]: line for line in order["line_items"]}
    picked: list[tuple[JSON, int]] = []
    for line_item_id, quantity in lines:
        if line_item_id not in by_id:
            raise ValueError(f"order {order['id']} has no line item {line_item_id}")
        line = by_id[line_item_id]
        if not 0 < quantity <= line.get("current_quantity", line["quantity"]):
            raise ValueError(f"cannot refund {quantity} of line item {line_item_id}")
        picked.append((line, quantity))
    return picked


def build_refund(
    *,
    refund_id: int,
    order: JSON,
    lines: list[tuple[int, int]],
    shipping: Decimal = ZERO,
    note: str | None = None,
    created_at: datetime | None = None,
    restock_type: str = "return",
    user_id: int | None = None,
) -> JSON:
    """A Refund resource as delivered on ``refunds/create`` (reference §4.2).

    ``subtotal`` of a refund line is the line's price after its discount allocations, pro rata to
    the refunded quantity. ``subtotal``/``total_tax`` are JSON numbers (Shopify's quirk); their
    ``*_set`` twins are strings. The transaction returns merchandise + tax (unless tax-inclusive)
    + ``shipping``, which also appears as a negative ``shipping_refund`` order adjustment.
    """
    cur = currencies_of(order)
    created = created_at or datetime.fromisoformat(order["created_at"]) + timedelta(days=1)
    order_id = order["id"]
    location_id = order.get("location_id") or DEFAULT_LOCATION_ID
    refund_line_items: list[JSON] = []
    refunded = NIL
    for index, (line, quantity) in enumerate(_refund_lines(order, lines)):
        subtotal = _share(_line_net(line), quantity, line["quantity"])
        tax = _share(_line_tax(line), quantity, line["quantity"])
        refunded = refunded + subtotal + (NIL if order["taxes_included"] else tax)
        rli_id = derive_id(refund_id, "refund_line_item", index)
        refund_line_items.append(
            {
                "id": rli_id,
                "line_item_id": line["id"],
                "location_id": None if restock_type == "no_restock" else location_id,
                "quantity": quantity,
                "restock_type": restock_type,
                # Shopify sends these two as JSON numbers; float is exact enough for 2 decimals
                # and json.dumps prints the shortest repr ("195.66").
                "subtotal": float(subtotal.shop),
                "subtotal_set": cur.money_set(subtotal),
                "total_tax": float(tax.shop),
                "total_tax_set": cur.money_set(tax),
                "line_item": copy.deepcopy(line),
            }
        )
    adjustments: list[JSON] = []
    if shipping > 0:
        ship = cur.amount(shipping)
        refunded = refunded + ship
        adjustments.append(
            {
                "id": derive_id(refund_id, "order_adjustment"),
                "order_id": order_id,
                "refund_id": refund_id,
                "amount": money(-ship.shop),
                "amount_set": cur.money_set(-ship),
                "tax_amount": "0.00",
                "tax_amount_set": cur.money_set(NIL),
                "kind": "shipping_refund",
                "reason": "Shipping refund",
            }
        )
    gateway = order["payment_gateway_names"][0] if order["payment_gateway_names"] else "manual"
    transactions: list[JSON] = []
    if refunded.shop > 0:
        txn_id = derive_id(refund_id, "transaction")
        transactions.append(
            {
                "id": txn_id,
                "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{txn_id}",
                "amount": money(refunded.shop),
                "authorization": None,
                "created_at": ts(created),
                "currency": cur.shop,
                "device_id": None,
                "error_code": None,
                "gateway": gateway,
                "kind": "refund",
                "location_id": None,
                "message": "Refund issued",
                "order_id": order_id,
                "parent_id": derive_id(order_id, "transaction"),
                "payment_id": f"r{txn_id}",
                "processed_at": ts(created),
                "receipt": {},
                "source_name": "web",
                "status": "success",
                "test": order["test"],
                "user_id": user_id,
            }
        )
    return {
        "id": refund_id,
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "created_at": ts(created),
        "note": note,
        "order_id": order_id,
        "processed_at": ts(created),
        "restock": restock_type != "no_restock" and bool(refund_line_items),
        "total_duties_set": cur.money_set(NIL),
        "user_id": user_id,
        "order_adjustments": adjustments,
        "transactions": transactions,
        "refund_line_items": refund_line_items,
        "duties": [],
    }


def _set_amount(order: JSON, name: str, value: Amount, cur: Currencies) -> None:
    order[name] = money(value.shop)
    order[f"{name}_set"] = cur.money_set(value)


def apply_refund(order: JSON, refund: JSON) -> JSON:
    """The order as ``orders/updated`` shows it after ``refund``: appended to ``refunds``,
    ``current_*`` totals and quantities reduced, ``financial_status`` moved on."""
    cur = currencies_of(order)
    updated = copy.deepcopy(order)
    updated["refunds"].append(copy.deepcopy(refund))
    lines = {line["id"]: line for line in updated["line_items"]}
    for rli in refund["refund_line_items"]:
        line = lines[rli["line_item_id"]]
        line["current_quantity"] -= rli["quantity"]
        line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - rli["quantity"])
    returned_sub = sum_amounts(
        [read_amount(r["subtotal_set"]) for r in refund["refund_line_items"]]
    )
    returned_tax = sum_amounts(
        [read_amount(r["total_tax_set"]) for r in refund["refund_line_items"]]
    )
    returned_ship = -sum_amounts(
        [read_amount(a["amount_set"]) for a in refund["order_adjustments"]]
    )
    subtotal = read_amount(updated["current_subtotal_price_set"]) - returned_sub
    tax = read_amount(updated["current_total_tax_set"]) - returned_tax
    total = read_amount(updated["current_total_price_set"]) - returned_sub - returned_ship
    if not updated["taxes_included"]:
        total = total - returned_tax
    _set_amount(updated, "current_subtotal_price", subtotal, cur)
    _set_amount(updated, "current_total_tax", tax, cur)
    _set_amount(updated, "current_total_price", total, cur)
    refunded_money = sum(
        (Decimal(t["amount"]) for r in updated["refunds"] for t in r["transactions"]),
        ZERO,
    )
    paid = Decimal(updated["total_price"])
    updated["financial_status"] = "refunded" if refunded_money >= paid else "partially_refunded"
    updated["updated_at"] = refund["created_at"]
    return updated


def build_cancelled_order(
    order: JSON, *, reason: str = "customer", cancelled_at: datetime | None = None
) -> JSON:
    """The order as sent on ``orders/cancelled``: ``cancelled_at``/``cancel_reason``/``closed_at``
    set, nothing left current, and paid money ``refunded`` (never-captured money ``voided``)."""
    moment = cancelled_at or datetime.fromisoformat(order["updated_at"]) + timedelta(hours=1)
    cur = currencies_of(order)
    updated = copy.deepcopy(order)
    updated["cancelled_at"] = ts(moment)
    updated["closed_at"] = ts(moment)
    updated["cancel_reason"] = reason
    updated["updated_at"] = ts(moment)
    captured = order["financial_status"] in {
        "paid",
        "partially_paid",
        "partially_refunded",
    }
    updated["financial_status"] = (
        "refunded" if captured or order["financial_status"] == "refunded" else "voided"
    )
    for line in updated["line_items"]:
        line["current_quantity"] = 0
        line["fulfillable_quantity"] = 0
    for name in ("current_subtotal_price", "current_total_tax", "current_total_price"):
        _set_amount(updated, name, NIL, cur)
    updated["total_outstanding"] = "0.00"
    return updated

"""Builders for what a real store sends after checkout, beyond line refunds: refunds by amount,
order edits that add and remove lines (``orders/edited`` and the ``orders/updated`` with the new
contents), and exchanges.

Shapes (reference §4 and shopify.dev's Order, Refund and OrderEdit webhook payloads):

- a refund by amount names no line: ``refund_line_items`` is empty, the money is in
  ``transactions`` and, for the part no line explains, a ``refund_discrepancy`` order adjustment
  with a *negative* amount;
- ``orders/edited`` is an ``order_edit`` object — line item ids and deltas only, no prices;
- after an edit the order's ``line_items`` keep their ``quantity`` and lower ``current_quantity``
  for removed units; added lines are new line items; ``financial_status`` is ``partially_paid``
  until the added amount is collected, then ``paid``.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from devstore.payloads import LineSpec, build_order, build_refund, derive_id, money
from devstore.payloads.amounts import NIL, currencies_of, read_amount, ts

JSON = dict[str, Any]


def build_amount_refund(
    *,
    refund_id: int,
    order: JSON,
    amount: Decimal,
    note: str | None = "Refund by amount",
    created_at: datetime | None = None,
) -> JSON:
    """A refund of ``amount`` (shop money) that names no line: "never arrived", goodwill."""
    refund = build_refund(
        refund_id=refund_id, order=order, lines=[], note=note, created_at=created_at
    )
    cur = currencies_of(order)
    returned = cur.amount(amount)
    refund["order_adjustments"].append(
        {
            "id": derive_id(refund_id, "refund_discrepancy"),
            "order_id": order["id"],
            "refund_id": refund_id,
            "amount": money(-returned.shop),
            "amount_set": cur.money_set(-returned),
            "tax_amount": "0.00",
            "tax_amount_set": cur.money_set(NIL),
            "kind": "refund_discrepancy",
            "reason": "Refund discrepancy",
        }
    )
    txn_id = derive_id(refund_id, "transaction")
    refund["transactions"] = [
        {
            "id": txn_id,
            "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{txn_id}",
            "amount": money(returned.shop),
            "kind": "refund",
            "status": "success",
            "gateway": (order["payment_gateway_names"] or ["manual"])[0],
            "order_id": order["id"],
            "parent_id": derive_id(order["id"], "transaction"),
            "created_at": refund["created_at"],
            "processed_at": refund["processed_at"],
            "currency": cur.shop,
            "test": order["test"],
        }
    ]
    return refund


def edited_line_items(order: JSON, added: list[LineSpec], edit_index: int) -> list[JSON]:
    """New line items for ``added``, shaped exactly like checkout's (same builder)."""
    template = build_order(
        order_id=derive_id(order["id"], "edit", edit_index),
        shop_domain="edit.invalid",
        customer=None,
        lines=added,
        currency=order["currency"],
        taxes_included=order["taxes_included"],
    )
    return [item for item in template["line_items"] if "tip" not in item]


def build_edited_order(
    order: JSON,
    *,
    add: list[LineSpec] | None = None,
    remove: list[tuple[int, int]] | None = None,
    paid: bool = True,
    edited_at: datetime | None = None,
    edit_index: int = 0,
) -> JSON:
    """The order as ``orders/updated`` shows it after an edit: ``remove`` lowers the
    ``current_quantity`` of (line item id, units); ``add`` appends new line items. ``paid``
    says whether the added amount was collected (``financial_status`` ``paid``) or is still
    due (``partially_paid``)."""
    updated = copy.deepcopy(order)
    moment = edited_at or datetime.fromisoformat(order["updated_at"]) + timedelta(hours=2)
    cur = currencies_of(order)
    by_id = {line["id"]: line for line in updated["line_items"]}
    delta = Decimal(0)
    for line_id, units in remove or []:
        line = by_id[line_id]
        if not 0 < units <= line["current_quantity"]:
            raise ValueError(f"cannot remove {units} of line item {line_id}")
        unit_net = _unit_net(line)
        line["current_quantity"] -= units
        line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - units)
        delta -= unit_net * units
    new_lines = edited_line_items(order, add or [], edit_index) if add else []
    for line in new_lines:
        updated["line_items"].append(line)
        delta += _unit_net(line) * line["quantity"]
    for name in ("current_subtotal_price", "current_total_price"):
        value = read_amount(updated[f"{name}_set"]).shop + delta
        updated[name] = money(value)
        updated[f"{name}_set"] = cur.money_set(cur.amount(value))
    if new_lines:
        total = Decimal(updated["total_price"]) + sum(
            (_unit_net(line) * line["quantity"] for line in new_lines), Decimal(0)
        )
        updated["total_price"] = money(total)
        updated["total_price_set"] = cur.money_set(cur.amount(total))
    if new_lines and not paid:
        updated["financial_status"] = "partially_paid"
    elif updated["financial_status"] in ("partially_paid", "pending"):
        updated["financial_status"] = "paid"
    updated["updated_at"] = ts(moment)
    return updated


def _unit_net(line: JSON) -> Decimal:
    gross = Decimal(line["price_set"]["shop_money"]["amount"]) * line["quantity"]
    discounts = sum(
        (Decimal(a["amount_set"]["shop_money"]["amount"]) for a in line["discount_allocations"]),
        Decimal(0),
    )
    return (gross - discounts) / line["quantity"] if line["quantity"] else Decimal(0)


def build_order_edit(
    *,
    edit_id: int,
    order: JSON,
    added: list[JSON] | None = None,
    removed: list[tuple[int, int]] | None = None,
    created_at: datetime | None = None,
) -> JSON:
    """The ``orders/edited`` body: an ``order_edit`` with line item ids and deltas."""
    moment = created_at or datetime.fromisoformat(order["updated_at"]) + timedelta(hours=2)
    return {
        "order_edit": {
            "id": edit_id,
            "app_id": None,
            "created_at": ts(moment),
            "notify_customer": False,
            "order_id": order["id"],
            "staff_note": "",
            "user_id": None,
            "line_items": {
                "additions": [
                    {"id": line["id"], "delta": line["quantity"]} for line in added or []
                ],
                "removals": [{"id": line_id, "delta": units} for line_id, units in removed or []],
            },
            "discounts": {"additions": [], "removals": []},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }


def build_exchange(
    *,
    refund_id: int,
    order: JSON,
    returned: list[tuple[int, int]],
    replacement: list[LineSpec],
    exchanged_at: datetime | None = None,
) -> tuple[JSON, JSON]:
    """An exchange: the returned units come back as a refund naming their lines, the
    replacement goes on the order as new line items (paid: the returned value covers it, any
    difference is collected). Returns (the refund, the order as ``orders/updated`` shows it)."""
    refund = build_refund(refund_id=refund_id, order=order, lines=returned, created_at=exchanged_at)
    updated = build_edited_order(
        order, add=replacement, paid=True, edited_at=exchanged_at, edit_index=refund_id % 997
    )
    by_id = {line["id"]: line for line in updated["line_items"]}
    for line_id, units in returned:
        by_id[line_id]["current_quantity"] -= units
    updated["refunds"] = [*updated["refunds"], copy.deepcopy(refund)]
    return refund, updated

"""The order desk's after-sale actions: refunds by amount, edits that add and remove lines,
exchanges, and a 1,000-line wholesale order — each sending what Shopify sends."""

from __future__ import annotations

import copy
from decimal import Decimal

from devstore.changes import build_amount_refund, build_edited_order, build_order_edit
from devstore.orders import OrderDesk
from devstore.payloads import LineSpec, apply_refund, build_refund
from devstore.state import JSON, iso


class OrderChanges(OrderDesk):
    def _line_spec(self, shop: JSON, item_id: int, quantity: int) -> LineSpec:
        product, variant = self._resolve_variant(shop, item_id)
        return LineSpec(
            title=product["title"],
            price=Decimal(variant["price"]),
            quantity=quantity,
            product_id=product["id"],
            variant_id=variant["id"],
            gift_card=product["gift_card"],
            taxable=not product["gift_card"],
            sku=variant["sku"],
            variant_title=variant["title"],
        )

    def refund_amount(self, order_id: int, amount: Decimal, *, note: str | None = None) -> JSON:
        """Refund money without naming a line ("never arrived", goodwill): a refund with no
        ``refund_line_items`` and a ``refund_discrepancy`` adjustment; then ``orders/updated``."""
        with self._locked():
            shop, record = self._order_record(order_id)
            order = record["order"]
            if order["cancelled_at"]:
                raise ValueError("order is cancelled")
            left = Decimal(order["current_total_price"])
            if not 0 < amount <= left:
                raise ValueError(f"refund an amount above 0 and at most {left}")
            refund = build_amount_refund(
                refund_id=self._next_id(),
                order=order,
                amount=amount,
                note=note,
                created_at=self.now(),
            )
            # apply_refund takes the discrepancy off the current total like any adjustment.
            record["order"] = apply_refund(order, refund)
            self._save()
            self._queue("refunds/create", shop["domain"], refund)
            self._queue("orders/updated", shop["domain"], record["order"])
            return copy.deepcopy(refund)

    def edit_order(
        self,
        order_id: int,
        *,
        add: list[tuple[int, int]] | None = None,
        remove: list[tuple[int, int]] | None = None,
        collect: bool = True,
    ) -> JSON:
        """Edit a paid order: ``add`` (product or variant id, quantity), ``remove`` (line item
        id, units). Sends ``orders/edited`` then ``orders/updated``; ``collect`` says whether
        the added amount is paid at once (else the order is ``partially_paid``)."""
        with self._locked():
            shop, record = self._order_record(order_id)
            order = record["order"]
            if order["cancelled_at"]:
                raise ValueError("order is cancelled")
            specs = [self._line_spec(shop, item, qty) for item, qty in add or [] if qty > 0]
            removed = [(line_id, units) for line_id, units in remove or [] if units > 0]
            if not specs and not removed:
                raise ValueError("nothing to edit")
            updated = build_edited_order(
                order,
                add=specs,
                remove=removed,
                paid=collect,
                edited_at=self.now(),
                edit_index=self._next_id() % 1_000_003,
            )
            added = updated["line_items"][len(order["line_items"]) :]
            edit = build_order_edit(
                edit_id=self._next_id(),
                order=order,
                added=added,
                removed=removed,
                created_at=self.now(),
            )
            record["order"] = updated
            self._save()
            self._queue("orders/edited", shop["domain"], edit)
            self._queue("orders/updated", shop["domain"], updated)
            return copy.deepcopy(updated)

    def exchange(self, order_id: int, line_id: int, units: int, item_id: int) -> JSON:
        """Exchange ``units`` of a line for a product: a refund naming the returned units and
        the replacement added to the order (paid), as ``refunds/create`` + ``orders/updated``."""
        with self._locked():
            shop, record = self._order_record(order_id)
            order = record["order"]
            if order["cancelled_at"]:
                raise ValueError("order is cancelled")
            refund = build_refund(
                refund_id=self._next_id(),
                order=order,
                lines=[(line_id, units)],
                created_at=self.now(),
                note="Exchange",
            )
            returned = apply_refund(order, refund)
            updated = build_edited_order(
                returned,
                add=[self._line_spec(shop, item_id, units)],
                paid=True,
                edited_at=self.now(),
                edit_index=self._next_id() % 1_000_003,
            )
            updated["financial_status"] = "partially_refunded"
            record["order"] = updated
            self._save()
            self._queue("refunds/create", shop["domain"], refund)
            self._queue("orders/updated", shop["domain"], updated)
            return copy.deepcopy(updated)

    def place_wholesale_order(
        self, *, customer_id: int, lines: int = 1000, shop_domain: str | None = None
    ) -> JSON:
        """A wholesale order of ``lines`` distinct line items (every product in turn), to show
        that big bodies (well over the old 512 KB limit) are accepted."""
        with self._locked():
            shop = self._shop(shop_domain)
            variants = [
                v["id"] for p in shop["products"] if not p["gift_card"] for v in p["variants"]
            ]
        items = [(variants[i % len(variants)], 1 + i % 3) for i in range(lines)]
        return self.place_order(
            customer_id=customer_id,
            items=items,
            payment_method="Credit card",
            delivery_option="Standard",
            shop_domain=shop_domain,
            note_attributes=[{"name": "wholesale", "value": iso(self.now())}],
        )

"""Where an awarded order's points stand: the award snapshot and everything measured against it.

The snapshot is taken from the paying payload and kept with the order. Later events only add to
it, each in a way that does not depend on the order they arrive in:

- a refund adds its units per line, its line money, shipping and money refunded by amount;
- an order payload (``orders/updated``, ``orders/edited`` follow-ups, fulfilment, cancellation)
  shows each line's ``current_quantity``: units it no longer has are *gone* (removed by an edit,
  or refunded — a refund's own webhook may come later, so gone is the larger of the two, never
  their sum); lines it has that the snapshot lacks were added by an edit or an exchange and,
  once the order is paid in full, earn at the award's stored rate and multiplier.

From it, the eligible amount to reverse is
``units refunded by line + max(units removed and not refunded by line, share refunded by amount)``
where the share is ``money refunded by amount ÷ money the order charged`` (tips and gift cards
left out) times the eligible amount. Taking the larger, not the sum, is what makes a unit removed
by an edit and then refunded — by line or by amount — reverse once. When all the money charged
has gone back, whatever the mix, the whole award is reversed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from .edits import OrderEditFacts
from .money import ZERO
from .orders import (
    OrderFacts,
    counts,
    eligible_amounts,
    line_charged,
    line_eligible,
    shipping_charged,
)
from .refunds import RefundFacts


@dataclass(frozen=True)
class SnapshotLine:
    quantity: int  # units counted at award (or when the edit added them)
    eligible: Decimal
    charged: Decimal  # the money those units charged


@dataclass(frozen=True)
class OrderSnapshot:
    lines: dict[int, SnapshotLine]
    shipping: Decimal  # eligible shipping (0 unless the shop counts it)
    shipping_charged: Decimal
    taxes_included: bool
    refunded: dict[int, int] = field(default_factory=dict)  # units per line, cumulative
    refunded_shipping: Decimal = ZERO  # pre-tax
    refunded_money: Decimal = ZERO  # lines (counted ones), shipping and amounts: cumulative
    refunded_by_amount: Decimal = ZERO
    # Per line, what order payloads showed: (units missing, units their refunds list or -1).
    observed: dict[int, set[tuple[int, int]]] = field(default_factory=dict)
    # Units per line that ``orders/edited`` payloads removed (summed over distinct edits).
    edit_removed: dict[int, int] = field(default_factory=dict)
    # Lines an order payload showed that do not count (tips, gift cards): never added later.
    ignored: frozenset[int] = frozenset()
    # The award's settings, so the snapshot can be re-derived from the order's events.
    include_shipping: bool = False
    include_tax: bool = False

    @classmethod
    def of(cls, facts: OrderFacts, *, include_shipping: bool, include_tax: bool) -> OrderSnapshot:
        amounts = eligible_amounts(
            facts, include_shipping=include_shipping, include_tax=include_tax
        )
        lines = {
            ln.line_id: SnapshotLine(
                ln.quantity, amounts.lines[ln.line_id][1], line_charged(ln, facts.taxes_included)
            )
            for ln in facts.lines
            if counts(ln)
        }
        return cls(
            lines=lines,
            shipping=amounts.shipping,
            shipping_charged=shipping_charged(facts),
            taxes_included=facts.taxes_included,
            ignored=frozenset(ln.line_id for ln in facts.lines if not counts(ln)),
            include_shipping=include_shipping,
            include_tax=include_tax,
        )

    @property
    def eligible(self) -> Decimal:
        return sum((ln.eligible for ln in self.lines.values()), ZERO) + self.shipping

    @property
    def charged(self) -> Decimal:
        return sum((ln.charged for ln in self.lines.values()), ZERO) + self.shipping_charged

    # --- what later events add -----------------------------------------------------------

    def with_refund(self, refund: RefundFacts) -> OrderSnapshot:
        refunded = dict(self.refunded)
        for line_id, quantity in refund.lines:
            refunded[line_id] = refunded.get(line_id, 0) + quantity
        money = refund.amount + refund.shipping + refund.shipping_tax
        for item in refund.line_money:
            if item.line_id in self.lines:  # tips and gift cards never count
                money += item.subtotal if self.taxes_included else item.subtotal + item.tax
        return replace(
            self,
            refunded=refunded,
            refunded_shipping=self.refunded_shipping + refund.shipping,
            refunded_money=self.refunded_money + money,
            refunded_by_amount=self.refunded_by_amount + refund.amount,
        )

    def with_contents(self, facts: OrderFacts) -> tuple[OrderSnapshot, tuple[int, ...]]:
        """The snapshot after seeing an order payload, and the ids of lines it added."""
        observed = {k: set(v) for k, v in self.observed.items()}
        lines = dict(self.lines)
        ignored = set(self.ignored)
        added: list[int] = []
        for ln in facts.lines:
            known = self.lines.get(ln.line_id)
            if known is not None:
                if ln.current_quantity is not None:
                    missing = min(max(known.quantity - ln.current_quantity, 0), known.quantity)
                    listed = -1 if ln.refunded_in_payload is None else ln.refunded_in_payload
                    observed.setdefault(ln.line_id, set()).add((missing, listed))
                continue
            if not counts(ln):
                ignored.add(ln.line_id)
                continue
            if ln.line_id in ignored or not facts.is_paid:
                continue  # added but not paid in full yet: a later payload will show it again
            units = ln.quantity if ln.current_quantity is None else ln.current_quantity
            if units <= 0 or ln.quantity <= 0:
                continue
            share = Decimal(units) / Decimal(ln.quantity)
            lines[ln.line_id] = SnapshotLine(
                units,
                line_eligible(ln, facts, self.include_tax) * share,
                line_charged(ln, facts.taxes_included) * share,
            )
            added.append(ln.line_id)
        snapshot = replace(self, observed=observed, lines=lines, ignored=frozenset(ignored))
        return snapshot, tuple(added)

    def with_edit(self, edit: OrderEditFacts) -> OrderSnapshot:
        removed = dict(self.edit_removed)
        for line_id, delta in edit.removals:
            if line_id in self.lines:
                removed[line_id] = removed.get(line_id, 0) + delta
        return replace(self, edit_removed=removed)

    def gone(self, line_id: int) -> int:
        """Units of a line no longer on the order. Each payload says how many are missing
        and, when it lists its refunds, how many of those were refunded: those refunds are
        left to their own webhook (still to come, or already counted), so what remains was
        removed by an edit. Unlisted refunds are not subtracted: the caller takes the larger of
        this and the refunded units, never the sum."""
        refunded = self.refunded.get(line_id, 0)
        best = self.edit_removed.get(line_id, 0)
        for missing, listed in self.observed.get(line_id, ()):
            explained = max(listed - refunded, 0) if listed >= 0 else 0
            best = max(best, missing - explained)
        return best

    # --- what stands reversed ------------------------------------------------------------

    def reversed_eligible(self, *, amount_refunds_reverse: bool) -> Decimal:
        """The eligible amount whose points are gone back, never more than the eligible."""
        total = self.eligible
        if total <= 0:
            return ZERO
        if amount_refunds_reverse and self.charged > 0 and self.refunded_money >= self.charged:
            return total  # every cent the order charged went back
        by_units = ZERO
        by_lines = ZERO
        for line_id, line in self.lines.items():
            if line.quantity <= 0:
                continue
            refunded = min(self.refunded.get(line_id, 0), line.quantity)
            missing = min(max(refunded, self.gone(line_id)), line.quantity)
            by_units += line.eligible * missing / line.quantity
            by_lines += line.eligible * refunded / line.quantity
        if self.shipping > 0:
            shipping_back = min(self.refunded_shipping, self.shipping)
            by_units += shipping_back
            by_lines += shipping_back
        amount = ZERO
        if amount_refunds_reverse and self.charged > 0:
            amount = total * self.refunded_by_amount / self.charged
        # Money refunded by amount first pays back units an edit removed that no line refund
        # covered (their money is owed back); only what it returns beyond them reverses more.
        removed_unrefunded = by_units - by_lines
        return min(by_lines + max(removed_unrefunded, amount), total)

    # --- storage --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": {
                str(k): [v.quantity, str(v.eligible), str(v.charged)] for k, v in self.lines.items()
            },
            "shipping": str(self.shipping),
            "shipping_charged": str(self.shipping_charged),
            "taxes_included": self.taxes_included,
            "refunded": {str(k): v for k, v in self.refunded.items()},
            "refunded_shipping": str(self.refunded_shipping),
            "refunded_money": str(self.refunded_money),
            "refunded_by_amount": str(self.refunded_by_amount),
            "observed": {str(k): sorted([m, r] for m, r in v) for k, v in self.observed.items()},
            "edit_removed": {str(k): v for k, v in self.edit_removed.items()},
            "ignored": sorted(self.ignored),
            "include_shipping": self.include_shipping,
            "include_tax": self.include_tax,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderSnapshot:
        lines = {}
        for key, value in data["lines"].items():
            # Snapshots from before charged money was kept: the eligible amount stands in.
            charged = value[2] if len(value) > 2 else value[1]
            lines[int(key)] = SnapshotLine(int(value[0]), Decimal(value[1]), Decimal(charged))
        return cls(
            lines=lines,
            shipping=Decimal(data["shipping"]),
            shipping_charged=Decimal(data.get("shipping_charged", "0")),
            taxes_included=bool(data.get("taxes_included", False)),
            refunded={int(k): int(v) for k, v in data.get("refunded", {}).items()},
            refunded_shipping=Decimal(data.get("refunded_shipping", "0")),
            refunded_money=Decimal(data.get("refunded_money", "0")),
            refunded_by_amount=Decimal(data.get("refunded_by_amount", "0")),
            observed={
                int(k): {(int(m), int(r)) for m, r in v}
                for k, v in data.get("observed", {}).items()
            },
            edit_removed={int(k): int(v) for k, v in data.get("edit_removed", {}).items()},
            ignored=frozenset(int(i) for i in data.get("ignored", [])),
            include_shipping=bool(data.get("include_shipping", False)),
            include_tax=bool(data.get("include_tax", False)),
        )

"""A small vocabulary for worked-example tests: a shopper, their orders, and what Shopify sends.

Every step goes through the real path: a payload shaped like Shopify's, signed, POSTed to
``/webhooks``; the assertions then read the ledger and the customer's projections.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devstore.changes import (
    build_amount_refund,
    build_edited_order,
    build_exchange,
    build_order_edit,
)
from devstore.payloads import (
    ID_BASE,
    LineSpec,
    build_cancelled_order,
    build_customer,
    build_order,
    build_refund,
)
from plugin.models import Customer, LedgerEntry, Shop
from tests.conftest import SHOP, post_webhook

_ids = itertools.count(1)


def next_id() -> int:
    return ID_BASE + 10_000_000 + next(_ids) * 1000


def line(title: str, price: str, quantity: int = 1, **kwargs: Any) -> LineSpec:
    return LineSpec(title=title, price=Decimal(price), quantity=quantity, **kwargs)


@dataclass
class Shopper:
    app: Flask
    client: FlaskClient
    shop_domain: str = SHOP
    customer_id: int = field(default_factory=next_id)
    email: str = "ada@example.com"

    # --- what Shopify sends ------------------------------------------------------------

    def order(self, *lines: LineSpec, **kwargs: Any) -> dict[str, Any]:
        customer = kwargs.pop("customer", "me")
        if customer == "me":
            customer = build_customer(
                self.customer_id, email=self.email, first_name="Ada", last_name="Lovelace"
            )
        # Processed when it is sent, unless the story says otherwise (tiers follow processed_at).
        kwargs.setdefault("created_at", self.now())
        return build_order(
            order_id=kwargs.pop("order_id", None) or next_id(),
            shop_domain=self.shop_domain,
            customer=customer,
            lines=list(lines),
            **kwargs,
        )

    def now(self) -> Any:
        return self.app.extensions["kanta"].now()

    def send(self, topic: str, payload: dict[str, Any], **kwargs: Any) -> Any:
        response = post_webhook(self.client, topic, payload, shop=self.shop_domain, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def pays(self, order: dict[str, Any], **kwargs: Any) -> None:
        self.send("orders/paid", order, **kwargs)

    def refunds(
        self, order: dict[str, Any], *items: tuple[int, int], shipping: str = "0", **kwargs: Any
    ) -> dict[str, Any]:
        """Refund (line index, quantity) pairs of ``order``."""
        refund = build_refund(
            refund_id=next_id(),
            order=order,
            lines=[(order["line_items"][i]["id"], qty) for i, qty in items],
            shipping=Decimal(shipping),
            created_at=kwargs.pop("created_at", None) or self.now(),
        )
        self.send("refunds/create", refund, **kwargs)
        return refund

    def refunds_amount(self, order: dict[str, Any], amount: str, **kwargs: Any) -> dict[str, Any]:
        """Refund money without naming a line ("never arrived", a goodwill gesture)."""
        refund = build_amount_refund(
            refund_id=next_id(),
            order=order,
            amount=Decimal(amount),
            created_at=kwargs.pop("created_at", None) or self.now(),
        )
        self.send("refunds/create", refund, **kwargs)
        return refund

    def edits(
        self,
        order: dict[str, Any],
        *,
        add: list[LineSpec] | None = None,
        remove: list[tuple[int, int]] | None = None,
        paid: bool = True,
    ) -> dict[str, Any]:
        """The merchant edits the order: ``remove`` (line index, units), ``add`` new lines.
        Shopify sends ``orders/edited`` and then ``orders/updated`` with the new contents."""
        removed = [(order["line_items"][i]["id"], units) for i, units in remove or []]
        edit_index = next(_ids)
        updated = build_edited_order(
            order, add=add, remove=removed, paid=paid, edit_index=edit_index
        )
        added = updated["line_items"][len(order["line_items"]) :]
        edit = build_order_edit(edit_id=next_id(), order=order, added=added, removed=removed)
        self.send("orders/edited", edit)
        self.send("orders/updated", updated)
        return updated

    def exchanges(
        self, order: dict[str, Any], returned: list[tuple[int, int]], *replacement: LineSpec
    ) -> dict[str, Any]:
        refund, updated = build_exchange(
            refund_id=next_id(),
            order=order,
            returned=[(order["line_items"][i]["id"], qty) for i, qty in returned],
            replacement=list(replacement),
        )
        self.send("refunds/create", refund)
        self.send("orders/updated", updated)
        return updated

    def cancels(self, order: dict[str, Any]) -> None:
        self.send("orders/cancelled", build_cancelled_order(order))

    # --- what Kanta holds ----------------------------------------------------------------

    def _customer(self, session: Any) -> Customer | None:
        return session.scalars(
            select(Customer)
            .join(Shop, Shop.id == Customer.shop_id)
            .where(
                Shop.domain == self.shop_domain, Customer.shopify_customer_id == self.customer_id
            )
        ).one_or_none()

    def state(self) -> dict[str, Any]:
        with self.app.extensions["kanta"].db.read() as session:
            customer = self._customer(session)
            if customer is None:
                return {"member": False, "points": 0, "pending": 0, "tier_points": 0, "tier": None}
            return {
                "member": customer.is_member,
                "points": customer.points_balance,
                "pending": customer.pending_points,
                "tier_points": customer.tier_points,
                "tier": customer.tier_key,
            }

    @property
    def points(self) -> int:
        return int(self.state()["points"])

    @property
    def pending(self) -> int:
        return int(self.state()["pending"])

    @property
    def tier(self) -> str | None:
        return self.state()["tier"]  # type: ignore[no-any-return]

    def entries(self) -> list[LedgerEntry]:
        with self.app.extensions["kanta"].db.read() as session:
            customer = self._customer(session)
            if customer is None:
                return []
            return list(
                session.scalars(
                    select(LedgerEntry)
                    .where(LedgerEntry.customer_id == customer.id)
                    .order_by(LedgerEntry.id)
                )
            )

    def ledger(self) -> list[tuple[str, int, int]]:
        """(kind, points, pending) per entry, oldest first."""
        return [(e.kind, e.points, e.pending_points) for e in self.entries()]

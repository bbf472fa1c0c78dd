"""Helpers for the widget API tests: a devstore with Kanta installed, its demo shoppers, and
requests carrying checkout session tokens minted as Shopify mints them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from devstore.signing import mint_checkout_session_token
from plugin.models import Customer, LedgerEntry, Redemption, Reward, Shop
from tests.conftest import API_KEY, API_SECRET, SHOP
from tests.shopify_fixtures import ShopifyStack


class CheckoutStack(ShopifyStack):
    """The devstore with Kanta installed on ``SHOP`` through the real install path."""

    def __init__(self, make_app: Callable[..., Flask], clock: Any, **config: Any) -> None:
        super().__init__(make_app, clock, **config)
        response = self.load_app_home()
        assert response.status_code == 200, response.get_data(as_text=True)

    # ------------------------------------------------------------------ the shopper

    def shopper_id(self, index: int = 0) -> int:
        return int(self.store.customers(SHOP)[index]["id"])

    def token(self, customer_id: int | None, shop: str = SHOP, **kwargs: Any) -> str:
        return mint_checkout_session_token(
            shop, API_KEY, API_SECRET, customer_id=customer_id, **kwargs
        )

    def call(
        self,
        method: str,
        path: str,
        customer_id: int | None,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **query: Any,
    ) -> Any:
        sent = {"Authorization": f"Bearer {token or self.token(customer_id)}", **(headers or {})}
        return self.client.open(
            f"/api/checkout/{path}",
            method=method,
            headers=sent,
            query_string=query,
            data=None if body is None else json.dumps(body),
            content_type="application/json",
        )

    def loyalty(self, customer_id: int | None, **query: Any) -> Any:
        response = self.call("GET", "loyalty", customer_id, **query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def join(self, customer_id: int, consent: bool = True) -> Any:
        response = self.call("POST", "join", customer_id, {"marketing_consent": consent})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def redeem(self, customer_id: int, reward_id: int, key: str | None = None) -> Any:
        return self.call(
            "POST",
            "redeem",
            customer_id,
            {"reward_id": str(reward_id)},
            headers={"Idempotency-Key": key or uuid.uuid4().hex},
        )

    def order(self, customer_id: int, payment: str, delivery: str | None, **kwargs: Any) -> Any:
        products = self.store.products(SHOP)
        teapot = next(p for p in products if p["title"] == "Cast Iron Teapot")
        return self.store.place_order(
            customer_id=customer_id,
            items=[(teapot["id"], kwargs.pop("quantity", 1))],
            payment_method=payment,
            delivery_option=delivery,
            shop_domain=SHOP,
            **kwargs,
        )

    # ------------------------------------------------------------------ what is held

    def reward_id(self, kind: str) -> int:
        with self.kanta.db.read() as session:
            return int(
                session.scalars(
                    select(Reward.id)
                    .join(Shop)
                    .where(Shop.domain == SHOP, Reward.reward_type == kind)
                ).first()
            )

    def add_reward(self, kind: str, value: str, cost: int = 100, title: str | None = None) -> int:
        from decimal import Decimal

        with self.kanta.db.transaction() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
            reward = Reward(
                shop_id=shop.id,
                title=title or f"{kind} {value}",
                points_cost=cost,
                reward_type=kind,
                value=Decimal(value),
            )
            session.add(reward)
            session.flush()
            return reward.id

    def customer_row(self, customer_id: int, shop: str = SHOP) -> Customer | None:
        with self.kanta.db.read() as session:
            return session.scalars(
                select(Customer)
                .join(Shop, Shop.id == Customer.shop_id)
                .where(Shop.domain == shop, Customer.shopify_customer_id == customer_id)
            ).one_or_none()

    def entries(self, customer_id: int) -> list[tuple[str, int]]:
        row = self.customer_row(customer_id)
        assert row is not None
        with self.kanta.db.read() as session:
            return [
                (e.kind, e.points)
                for e in session.scalars(
                    select(LedgerEntry)
                    .where(LedgerEntry.customer_id == row.id)
                    .order_by(LedgerEntry.id)
                )
            ]

    def redemptions(self) -> list[Redemption]:
        with self.kanta.db.read() as session:
            return list(session.scalars(select(Redemption).order_by(Redemption.id)))

    def metafield(self, customer_id: int) -> dict[str, Any] | None:
        from devstore.graphql import resolve_namespace

        found = self.store.find_metafield(
            SHOP,
            f"gid://shopify/Customer/{customer_id}",
            resolve_namespace(self.store, "$app:kanta"),
            "preferences",
        )
        return None if found is None else json.loads(found["value"])

    def calls(self, root_field: str) -> list[dict[str, Any]]:
        return [c for c in self.store.graphql_calls if c["root_field"] == root_field]

    def give_points(self, customer_id: int, points: int) -> None:
        """Points through the ledger's own path (a merchant's adjustment); the widget's cached
        read of this customer is dropped, as a write in this process does."""
        from plugin import ledger

        row = self.customer_row(customer_id)
        assert row is not None
        with self.kanta.db.transaction() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
            ledger.adjust_points(
                session,
                shop,
                row.id,
                points,
                "test top-up",
                "test",
                uuid.uuid4().hex,
                self.kanta.now(),
            )
        reader = self.kanta.extras.get("checkout_reader")
        if reader is not None:
            reader.customers.clear()

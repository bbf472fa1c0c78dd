"""Fixtures for the admin's pages and API: a Kanta app on the devstore, members, bearer tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from devstore.signing import mint_admin_session_token
from plugin.models import Customer, Shop
from tests.conftest import API_KEY, API_SECRET, SHOP, Clock
from tests.shopify_fixtures import ShopifyStack

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def stack(make_app: Callable[..., Flask], clock: Clock) -> ShopifyStack:
    stack = ShopifyStack(make_app, clock)
    assert stack.load_app_home().status_code == 200  # installs SHOP through token exchange
    return stack


def bearer(shop: str = SHOP, user_id: str = "42") -> dict[str, str]:
    token = mint_admin_session_token(shop, API_KEY, API_SECRET, user_id=user_id)
    return {"Authorization": f"Bearer {token}"}


def shop_pk(stack: ShopifyStack, domain: str = SHOP) -> int:
    with stack.kanta.db.read() as session:
        return session.scalars(select(Shop.id).where(Shop.domain == domain)).one()


def add_member(stack: Any, shop_id: int, customer_id: int, email: str | None, **fields: Any) -> int:
    """A member row as the ledger leaves it (projections set directly: these tests read)."""
    k = stack.kanta if hasattr(stack, "kanta") else stack
    with k.db.transaction() as session:
        customer = Customer(
            shop_id=shop_id,
            shopify_customer_id=customer_id,
            email=email,
            is_member=True,
            member_since=k.now() - timedelta(days=30),
            **fields,
        )
        session.add(customer)
        session.flush()
        return customer.id


def page(stack: ShopifyStack, path: str, shop: str = SHOP, **params: str) -> Any:
    return stack.client.get(
        path,
        query_string={"embedded": "1", "shop": shop, "id_token": stack.id_token(shop), **params},
    )

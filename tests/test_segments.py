"""Segments: members by tier, points, last order, consent and what they bought; the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from devstore.payloads import build_cancelled_order, build_customer
from plugin.admin.segments import EXPORT_BATCH, safe_cell
from plugin.models import CollectionProduct, Customer
from tests.conftest import OTHER_SHOP, SHOP, Clock, install_shop
from tests.story import Shopper, line
from tests.test_member_api import bearer

TEAPOT, MUG, SENCHA = 9_100_000_000_001, 9_100_000_000_002, 9_100_000_000_003
TEAWARE = 9_200_000_000_001


def shopper(app: Flask, client: FlaskClient, n: int, first: str, last: str = "Example") -> Shopper:
    s = Shopper(
        app, client, customer_id=83_000_000_000_000_000 + n, email=f"{first.lower()}@ex.com"
    )
    s.first, s.last = first, last  # type: ignore[attr-defined]
    return s


def buys(s: Shopper, *products: tuple[int, str]) -> dict[str, Any]:
    customer = build_customer(s.customer_id, email=s.email, first_name=s.first, last_name=s.last)  # type: ignore[attr-defined]
    order = s.order(
        *(line(title, price, product_id=pid) for pid, title, price in products), customer=customer
    )
    s.pays(order)
    return order


def set_consent(app: Flask, s: Shopper, consent: bool | None) -> None:
    with app.extensions["kanta"].db.transaction() as session:
        session.execute(
            update(Customer)
            .where(Customer.shopify_customer_id == s.customer_id)
            .values(marketing_consent=consent)
        )


@pytest.fixture
def people(app: Flask, client: FlaskClient, shop: int, clock: Clock) -> dict[str, Shopper]:
    """Ada bought a teapot (600 points, Silver, consent yes) on day 0; Bea a mug (18) on day 10
    (consent no); Cal Sencha (25) on day 20, consent unknown; Dan bought a teapot but that
    order was cancelled (and a mug, kept)."""
    ada, bea = shopper(app, client, 1, "Ada"), shopper(app, client, 2, "=Bea", "+cmd|' /C calc'!A0")
    cal, dan = shopper(app, client, 3, "Cal"), shopper(app, client, 4, "Dan")
    buys(ada, (TEAPOT, "Cast Iron Teapot", "600.00"))
    clock.advance(days=10)
    buys(bea, (MUG, "Ceramic Mug", "18.00"))
    clock.advance(days=10)
    buys(cal, (SENCHA, "Sencha Green Tea", "25.00"))
    teapot = buys(dan, (TEAPOT, "Cast Iron Teapot", "64.00"))
    dan.send("orders/cancelled", build_cancelled_order(teapot))
    buys(dan, (MUG, "Ceramic Mug", "18.00"))
    set_consent(app, ada, True)
    set_consent(app, bea, False)
    with app.extensions["kanta"].db.transaction() as session:
        for product in (TEAPOT, MUG):
            session.add(
                CollectionProduct(
                    shop_id=shop,
                    shopify_collection_id=TEAWARE,
                    collection_title="Teaware",
                    product_id=product,
                )
            )
    return {"ada": ada, "bea": bea, "cal": cal, "dan": dan}


def emails(client: FlaskClient, query: str, shop: str = SHOP) -> list[str]:
    response = client.get(f"/api/admin/segments/members?{query}", headers=bearer(shop))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [m["email"] for m in response.get_json()["members"]]


def test_each_filter_selects_the_members_it_names(
    client: FlaskClient, people: dict[str, Shopper]
) -> None:
    assert emails(client, "") == ["ada@ex.com", "=bea@ex.com", "cal@ex.com", "dan@ex.com"]
    assert emails(client, "tier=silver") == ["ada@ex.com"]
    assert emails(client, "tier=Bronze") == ["=bea@ex.com", "cal@ex.com", "dan@ex.com"]
    assert emails(client, "points_min=20&points_max=100") == ["cal@ex.com"]
    # Dan: 64 for the teapot, taken back by its cancellation, + 18 for the mug.
    assert emails(client, "points_min=18&points_max=18") == ["=bea@ex.com", "dan@ex.com"]
    assert emails(client, "consent=yes") == ["ada@ex.com"]
    assert emails(client, "consent=no") == ["=bea@ex.com"]
    assert emails(client, "consent=unknown") == ["cal@ex.com", "dan@ex.com"]
    # Last orders: Ada on 03-02, Bea on 03-12, Cal and Dan on 03-22 (the test clock).
    assert emails(client, "last_order_to=2026-03-02") == ["ada@ex.com"]
    assert emails(client, "last_order_from=2026-03-03&last_order_to=2026-03-21") == ["=bea@ex.com"]
    # Dan's teapot order was cancelled: he did not buy a teapot.
    assert emails(client, f"product_id={TEAPOT}") == ["ada@ex.com"]
    assert emails(client, f"product_id={MUG}") == ["=bea@ex.com", "dan@ex.com"]
    assert emails(client, f"collection_id={TEAWARE}") == ["ada@ex.com", "=bea@ex.com", "dan@ex.com"]
    assert emails(client, f"collection_id={TEAWARE}&consent=no") == ["=bea@ex.com"]


def test_members_page_by_keyset_and_count_on_request(
    client: FlaskClient, people: dict[str, Shopper]
) -> None:
    first = client.get("/api/admin/segments/members?limit=3&count=1", headers=bearer()).get_json()
    assert first["count"] == 4
    assert len(first["members"]) == 3
    second = client.get(
        f"/api/admin/segments/members?limit=3&after={first['next']}", headers=bearer()
    ).get_json()
    assert [m["email"] for m in second["members"]] == ["dan@ex.com"]
    assert second["next"] is None
    assert "count" not in second


def test_options_list_products_bought_collections_and_tiers(
    client: FlaskClient, people: dict[str, Shopper]
) -> None:
    options = client.get("/api/admin/segments/options", headers=bearer()).get_json()
    assert [p["title"] for p in options["products"]] == [
        "Cast Iron Teapot",
        "Ceramic Mug",
        "Sencha Green Tea",
    ]
    assert options["collections"] == [{"id": str(TEAWARE), "title": "Teaware"}]
    assert [t["key"] for t in options["tiers"]] == ["bronze", "silver", "gold"]


def read_csv(client: FlaskClient, query: str) -> list[list[str]]:
    response = client.get(f"/api/admin/segments/export.csv?{query}", headers=bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_export_is_newsletter_ready_and_formula_safe(
    client: FlaskClient, people: dict[str, Shopper]
) -> None:
    rows = read_csv(client, f"collection_id={TEAWARE}")
    assert rows == [
        ["email", "first_name", "last_name", "tier", "points", "consent"],
        ["ada@ex.com", "Ada", "Example", "Silver", "600", "true"],
        ["'=bea@ex.com", "'=Bea", "'+cmd|' /C calc'!A0", "Bronze", "18", "false"],
        ["dan@ex.com", "Dan", "Example", "Bronze", "18", "unknown"],
    ]
    klaviyo = read_csv(client, "columns=klaviyo&tier=bronze")
    assert klaviyo[0] == [
        "Email",
        "First Name",
        "Last Name",
        "Email Marketing Consent",
        "Loyalty Tier",
        "Loyalty Points",
    ]
    assert klaviyo[1][3] == "Unsubscribed"
    assert klaviyo[2] == ["cal@ex.com", "Cal", "Example", "Never subscribed", "Bronze", "25"]


def test_a_large_segment_streams_in_batches(
    app: Flask, client: FlaskClient, shop: int, clock: Clock
) -> None:
    from plugin.models import utcnow

    total = EXPORT_BATCH * 2 + 7
    with app.extensions["kanta"].db.transaction() as session:
        now = utcnow()
        session.execute(
            Customer.__table__.insert(),
            [
                {
                    "shop_id": shop,
                    "shopify_customer_id": 10**12 + n,
                    "email": f"m{n}@ex.com",
                    "is_member": True,
                    "points_balance": n,
                    "pending_points": 0,
                    "tier_points": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(total)
            ],
        )
    response = client.get("/api/admin/segments/export.csv", headers=bearer())
    chunks = list(response.response)  # header, then one chunk per batch of members
    assert len(chunks) == 1 + 3
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == total + 1
    assert rows[-1][0] == f"m{total - 1}@ex.com"


@pytest.mark.parametrize(
    "query",
    [
        "tier=platinum",
        "points_min=abc",
        "points_min=10&points_max=5",
        "last_order_from=2026-02-30",
        "last_order_from=2026-03-10&last_order_to=2026-03-01",
        "last_order_to=9999-12-31",  # a day later does not exist: was a 500
        "last_order_from=0001-01-01",
        "consent=maybe",
        "product_id=-1",
        "collection_id=x",
    ],
)
def test_bad_filters_are_422_naming_the_field(
    client: FlaskClient, people: dict[str, Shopper], query: str
) -> None:
    field = query.split("=")[0]
    for path in ("members", "export.csv"):
        response = client.get(f"/api/admin/segments/{path}?{query}", headers=bearer())
        assert response.status_code == 422, (path, query)
        assert field in response.get_json()["errors"]
    bad_cursor = client.get("/api/admin/segments/members?after=x&limit=0", headers=bearer())
    assert set(bad_cursor.get_json()["errors"]) == {"after", "limit"}
    columns = client.get("/api/admin/segments/export.csv?columns=excel", headers=bearer())
    assert columns.status_code == 422


def test_one_shop_never_sees_another_shops_members(
    app: Flask, client: FlaskClient, people: dict[str, Shopper]
) -> None:
    install_shop(app, OTHER_SHOP)
    assert emails(client, "", shop=OTHER_SHOP) == []
    export = client.get("/api/admin/segments/export.csv", headers=bearer(OTHER_SHOP))
    assert export.get_data(as_text=True).splitlines() == [
        "email,first_name,last_name,tier,points,consent"
    ]
    options = client.get("/api/admin/segments/options", headers=bearer(OTHER_SHOP)).get_json()
    assert options["products"] == options["collections"] == []
    for path in ("members", "options", "export.csv"):
        assert client.get(f"/api/admin/segments/{path}").status_code == 401


def test_erased_customers_and_non_members_are_never_in_a_segment(
    app: Flask, client: FlaskClient, people: dict[str, Shopper]
) -> None:
    with app.extensions["kanta"].db.transaction() as session:
        session.execute(
            update(Customer)
            .where(Customer.shopify_customer_id == people["cal"].customer_id)
            .values(is_member=False)
        )
        ada = session.scalars(
            select(Customer).where(Customer.shopify_customer_id == people["ada"].customer_id)
        ).one()
        ada.redacted_at = ada.created_at + timedelta(days=1)
    assert emails(client, "") == ["=bea@ex.com", "dan@ex.com"]


def test_formula_cells_are_neutralised() -> None:
    for dangerous in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("ada@example.com") == "ada@example.com"
    assert safe_cell(-5) == -5  # numbers stay numbers

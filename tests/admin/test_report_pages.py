"""The Analytics, Segments, Import and Data requests pages, embedded, on the devstore; and the
jobs that read the shop's plan, country and collections from its Admin GraphQL API."""

from __future__ import annotations

from sqlalchemy import select

from devstore.payloads import build_customers_data_request
from plugin.models import CollectionProduct, DataExport, Shop
from tests.admin.conftest import add_member, page, shop_pk
from tests.conftest import OTHER_SHOP, SHOP, post_webhook
from tests.shopify_fixtures import ShopifyStack
from tests.story import Shopper, line


def test_analytics_reads_the_plan_country_and_collections_from_shopify(
    stack: ShopifyStack,
) -> None:
    stack.store.set_shop_plan(
        SHOP, display_name="Shopify Plus", shopify_plus=True, country_code="US"
    )
    response = page(stack, "/analytics")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with stack.kanta.db.read() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        assert (shop.plan_display_name, shop.plan_shopify_plus, shop.country_code) == (
            "Shopify Plus",
            True,
            "US",
        )
        collections = session.execute(
            select(CollectionProduct.collection_title, CollectionProduct.product_id)
        ).all()
    titles = {p["id"]: p["title"] for p in stack.store.products(SHOP)}
    assert sorted((c, titles[p]) for c, p in collections) == [
        ("Tea", "Loose Leaf Sampler"),
        ("Tea", "Sencha Green Tea"),
        ("Teaware", "Bamboo Whisk"),
        ("Teaware", "Cast Iron Teapot"),
        ("Teaware", "Ceramic Mug"),
    ]
    assert "Billing country US" in html
    assert "Nothing happened in this period yet" in html  # the empty state says what to do
    calls = [c["root_field"] for c in stack.store.graphql_calls]
    assert calls.count("shop") >= 1
    assert calls.count("collections") == 1
    page(stack, "/analytics")  # synced a moment ago: not asked again
    assert [c["root_field"] for c in stack.store.graphql_calls].count("collections") == 1


def test_the_analytics_page_draws_its_figures_with_their_definitions(
    stack: ShopifyStack,
) -> None:
    ada = Shopper(stack.app, stack.client, customer_id=84_000_000_000_000_001)
    ada.pays(ada.order(line("Teapot", "64.00")))
    html = page(stack, "/analytics", **{"from": "2026-02-01", "to": "2026-03-31"}).get_data(
        as_text=True
    )
    assert html.count("<svg") == 3  # weekly points, members compared, tiers
    # 64 for the order, 100 for the welcome bonus its auto-enrolment paid.
    assert "Points issued in the week of 2026-03-02: 164" in html
    assert "Order awards (pending included)" in html  # the definition beside the figure
    assert 'data-figure="points_issued"' in html
    bad = page(stack, "/analytics", **{"from": "2026-03-31", "to": "2026-03-01"})
    assert bad.status_code == 200
    assert "That period cannot be shown" in bad.get_data(as_text=True)


def test_the_segments_page_filters_and_offers_both_exports(stack: ShopifyStack) -> None:
    shop = shop_pk(stack)
    add_member(stack, shop, 1, "ada@example.com", first_name="Ada", points_balance=700,
               tier_key="silver")  # fmt: skip
    add_member(stack, shop, 2, "bea@example.com", first_name="Bea", points_balance=20)
    html = page(stack, "/segments", tier="silver", points_min="").get_data(as_text=True)
    assert "ada@example.com" in html
    assert "bea@example.com" not in html
    assert "1 member<" in html
    assert "columns=klaviyo&amp;tier=silver" in html
    refused = page(stack, "/segments", points_min="lots").get_data(as_text=True)
    assert "must be a whole number" in refused
    assert "bea@example.com" in refused  # a refused filter shows everyone, never a 500


def test_the_import_page_lists_past_imports(stack: ShopifyStack) -> None:
    empty = page(stack, "/import").get_data(as_text=True)
    assert "No imports yet" in empty
    from tests.admin.conftest import bearer

    response = stack.client.post(
        "/api/admin/imports",
        data=b"customer_id,points\n84000000000000099,250\n",
        headers={**bearer(), "Content-Type": "text/csv"},
    )
    assert response.status_code == 202
    html = page(stack, "/import").get_data(as_text=True)
    assert "Imported" in html
    assert "250" in html
    assert "data-import" in html


def test_the_data_requests_page_lists_the_prepared_exports(stack: ShopifyStack) -> None:
    assert "No data requests" in page(stack, "/data-requests").get_data(as_text=True)
    shopper = Shopper(stack.app, stack.client, customer_id=84_000_000_000_000_005)
    shopper.pays(shopper.order(line("Mug", "18.00")))
    payload = build_customers_data_request(
        shop_id=1,
        shop_domain=SHOP,
        customer_id=shopper.customer_id,
        email=shopper.email,
        orders_requested=[],
        data_request_id=9_001,
    )
    assert post_webhook(stack.client, "customers/data_request", payload).status_code == 200
    with stack.kanta.db.read() as session:
        assert session.scalar(select(DataExport.data_request_id)) == 9_001
    html = page(stack, "/data-requests").get_data(as_text=True)
    assert 'data-export="/api/admin/data-requests/9001"' in html
    assert str(shopper.customer_id) in html


def test_another_shop_sees_none_of_this_shops_figures_or_members(stack: ShopifyStack) -> None:
    shop = shop_pk(stack)
    add_member(stack, shop, 1, "ada@example.com", points_balance=700)
    stack.store.add_shop(OTHER_SHOP)
    assert stack.load_app_home(OTHER_SHOP).status_code == 200  # installs the second shop
    for path in ("/segments", "/analytics", "/import", "/data-requests"):
        html = page(stack, path, shop=OTHER_SHOP).get_data(as_text=True)
        assert "ada@example.com" not in html, path
    theirs = page(stack, "/analytics", shop=OTHER_SHOP).get_data(as_text=True)
    assert "Nothing happened in this period yet" in theirs


def test_pages_without_a_session_token_are_sent_for_one(stack: ShopifyStack) -> None:
    for path in ("/analytics", "/segments", "/import", "/data-requests"):
        response = stack.client.get(path, query_string={"embedded": "1", "shop": SHOP})
        assert response.status_code in (302, 401), path
        assert b"ada@example.com" not in response.data

"""Finding members: prefix search on email and names, tier filter, keyset pages, isolation, and
(on PostgreSQL) query plans that use the indexes of migration 0016."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from plugin.admin.members import MembersQuery, decode_cursor, encode_cursor, members_select
from plugin.loyalty.program import ProgramSettings
from plugin.models import Shop
from tests.admin.conftest import add_member, bearer, page, shop_pk
from tests.conftest import OTHER_SHOP, install_shop
from tests.shopify_fixtures import ShopifyStack


def listed(stack: ShopifyStack, **params: str) -> dict:
    response = stack.client.get("/api/admin/members", query_string=params, headers=bearer())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def emails(body: dict) -> list[str]:
    return [m["email"] for m in body["members"]]


@pytest.fixture
def people(stack: ShopifyStack) -> int:
    shop = shop_pk(stack)
    add_member(
        stack,
        shop,
        1,
        "ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        tier_key="gold",
        points_balance=1600,
    )
    add_member(
        stack,
        shop,
        2,
        "grace@example.com",
        first_name="Grace",
        last_name="Hopper",
        tier_key="silver",
    )
    add_member(stack, shop, 3, "Alan.Turing@Example.com", first_name="Alan", last_name="Turing")
    add_member(
        stack, shop, 4, "x@example.com", first_name="Adele", last_name="Adams", tier_key="bronze"
    )
    add_member(stack, shop, 5, "100%_sure@example.com", first_name="Percy")
    return shop


def test_newest_first_with_tier_names(stack: ShopifyStack, people: int) -> None:
    body = listed(stack)
    assert emails(body) == [
        "100%_sure@example.com",
        "x@example.com",
        "Alan.Turing@Example.com",
        "grace@example.com",
        "ada@example.com",
    ]
    assert body["members"][-1]["tier"] == {"key": "gold", "name": "Gold"}
    assert body["members"][-1]["customer_id"] == "1"
    assert body["next_cursor"] is None


def test_prefix_search_on_email_first_and_last_name_ignores_case(
    stack: ShopifyStack, people: int
) -> None:
    assert emails(listed(stack, query="ALAN.t")) == ["Alan.Turing@Example.com"]
    assert emails(listed(stack, query="ad")) == [
        "x@example.com",
        "ada@example.com",
    ]  # Adele Adams, ada@
    assert emails(listed(stack, query="hopper")) == ["grace@example.com"]
    assert emails(listed(stack, query="ada love")) == ["ada@example.com"]
    assert emails(listed(stack, query="example")) == []  # a prefix, not a substring
    # LIKE's wildcards are plain characters here.
    assert emails(listed(stack, query="100%_")) == ["100%_sure@example.com"]
    assert emails(listed(stack, query="1%")) == []


def test_tier_filter_counts_unplaced_members_in_the_first_tier(
    stack: ShopifyStack, people: int
) -> None:
    assert emails(listed(stack, tier="gold")) == ["ada@example.com"]
    assert emails(listed(stack, tier="bronze")) == [
        "100%_sure@example.com",
        "x@example.com",
        "Alan.Turing@Example.com",
    ]
    assert emails(listed(stack, tier="silver", query="gr")) == ["grace@example.com"]


def test_keyset_pages_cover_everyone_once(stack: ShopifyStack) -> None:
    shop = shop_pk(stack)
    for n in range(60):
        add_member(stack, shop, 1000 + n, f"m{n:02}@example.com")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        body = listed(stack, **({"after": cursor} if cursor else {}))
        seen += emails(body)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"m{n:02}@example.com" for n in reversed(range(60))]


def test_bad_parameters_are_400_with_the_field(stack: ShopifyStack, people: int) -> None:
    for params, field in (
        ({"after": "garbage"}, "after"),
        ({"after": encode_cursor(1)[:-2] + "!!"}, "after"),
        ({"tier": "platinum"}, "tier"),
        ({"query": "a" * 101}, "query"),
    ):
        response = stack.client.get("/api/admin/members", query_string=params, headers=bearer())
        assert response.status_code == 400
        assert field in response.get_json()["errors"]


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor(123456789012)) == 123456789012
    assert decode_cursor("bTE6LTE") is None  # "m1:-1"
    assert decode_cursor("") is None


def test_a_token_of_one_shop_never_lists_another_shops_members(
    stack: ShopifyStack, people: int
) -> None:
    other = install_shop(stack.app, OTHER_SHOP)
    add_member(stack, other, 9, "ada.other@example.com", first_name="Ada")
    assert "ada.other@example.com" not in emails(listed(stack, query="ada"))
    theirs = stack.client.get(
        "/api/admin/members", query_string={"query": "ada"}, headers=bearer(OTHER_SHOP)
    )
    assert [m["email"] for m in theirs.get_json()["members"]] == ["ada.other@example.com"]
    html = page(stack, "/members", query="ada").get_data(as_text=True)
    assert "ada@example.com" in html
    assert "ada.other@example.com" not in html


def test_members_page_searches_pages_and_says_what_to_do_when_empty(stack: ShopifyStack) -> None:
    empty = page(stack, "/members").get_data(as_text=True)
    assert "No members yet" in empty
    assert "first paid order" in empty
    add_member(stack, shop_pk(stack), 1, "ada@example.com", first_name="Ada")
    found = page(stack, "/members", query="ad").get_data(as_text=True)
    assert "ada@example.com" in found
    assert "/members/1?embedded=1" in found
    none = page(stack, "/members", query="zz").get_data(as_text=True)
    assert "No members match" in none
    bad = page(stack, "/members", after="nope").get_data(as_text=True)
    assert "not a cursor this API gave out" in bad


@pytest.mark.postgres_only
def test_every_access_path_uses_its_index_on_postgresql(stack: ShopifyStack) -> None:
    """EXPLAIN of each query the list runs, on a table big enough that a sequential scan would
    be cheaper than an index if the index were not usable."""
    shop = shop_pk(stack)
    other = install_shop(stack.app, OTHER_SHOP)
    with stack.kanta.db.transaction() as session:
        # Ours first (lower ids), then a bigger shop: no plan may wade through the other's rows.
        for owner, count in ((shop, 5000), (other, 40000)):
            session.execute(
                text(
                    "INSERT INTO customers (shop_id, shopify_customer_id, email, first_name,"
                    " last_name, is_member, points_balance, pending_points, tier_points, tier_key,"
                    " created_at, updated_at) SELECT :shop, n, 'user' || n || '@example.com',"
                    " 'First' || n, 'Last' || n, true, 0, 0, 0,"
                    " CASE WHEN n % 10 = 0 THEN 'gold' ELSE 'bronze' END, now(), now()"
                    " FROM generate_series(1, :count) AS n"
                ),
                {"shop": owner, "count": count},
            )
        session.execute(text("ANALYZE customers"))
    program = ProgramSettings()
    with stack.kanta.db.read() as session:
        shop_row = session.get(Shop, shop)
        assert shop_row is not None
        cases = {
            "ix_customers_shop_member_id": MembersQuery(),
            "ix_customers_shop_tier_id": MembersQuery(tier="gold"),
            "ix_customers_shop_email_prefix": MembersQuery(text="user1234"),
            "ix_customers_shop_last_name_prefix": MembersQuery(text="last1234"),
        }
        for index, query in cases.items():
            statement = members_select(shop_row, program, query, "postgresql")
            compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {compiled}")))
            assert index in plan, plan
            assert "Seq Scan" not in plan, plan
            assert "OFFSET" not in str(compiled).upper()

"""Finding members: prefix search on email and names, tier filter, keyset pages, isolation; the
two plans (the budgeted walk and the arms) answer every query alike, over generated members, on
both databases; and the query plans use the indexes of migrations 0016 and 0022."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

from plugin.admin.members_query import (
    PAGE_SIZE,
    Budget,
    MembersQuery,
    decode_cursor,
    encode_cursor,
    find_members,
    member_search,
)
from plugin.admin.shops import AdminShop
from plugin.loyalty.program import ProgramSettings
from plugin.models import Customer
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
    # Stored strings hold no NUL, so a search holding one means the same without it
    # (PostgreSQL refused the text outright: a 500 found by the schemathesis run).
    assert emails(listed(stack, query="hop\x00per")) == ["grace@example.com"]
    assert emails(listed(stack, query="\x00")) == emails(listed(stack))


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


def test_a_saved_program_is_what_the_next_list_filters_by(stack: ShopifyStack) -> None:
    """The shop is remembered per process for a few seconds, but not past a save in it."""
    add_member(stack, shop_pk(stack), 1, "ada@example.com", tier_key="platinum")
    assert emails(listed(stack)) == ["ada@example.com"]  # the shop is cached now
    program = stack.client.get("/api/admin/program", headers=bearer()).get_json()
    tiers = program["tiers"] + [
        {"key": "platinum", "name": "Platinum", "threshold": 5000, "multiplier": "2"}
    ]
    saved = stack.client.put("/api/admin/program", json={"tiers": tiers}, headers=bearer())
    assert saved.status_code == 200, saved.get_json()
    body = listed(stack, tier="platinum")
    assert emails(body) == ["ada@example.com"]
    assert body["members"][0]["tier"] == {"key": "platinum", "name": "Platinum"}


# Generated members for the property test: a few very common names (a page fills within any
# budget), rare ones, names that are prefixes of others (Zoe, Zoey), a space in a first name,
# LIKE's wildcards, mixed case, missing names and emails; non-members, redacted customers and
# members the ledger has not placed (tier null); another shop's members with the same names,
# interleaved by id. ASCII only: SQLite's lower() folds nothing else, so the definition in
# Python below would not be SQLite's for "Æ" (neither plan changes that).
FIRSTS = ["Emma"] * 12 + ["Emil"] * 6 + ["Zoe", "Zoey", "Mary Ann", "Ada", "Al_x", "ASA"] + [None]
LASTS = ["Smith"] * 10 + ["Smithers"] * 3 + ["Young", "You", "Lovelace", "O'Neil", "50%"] + [None]
TIERS = ["bronze"] * 6 + ["silver"] * 3 + ["gold", None]


@dataclass(frozen=True)
class Person:
    id: int
    shopify_customer_id: int | None
    email: str | None
    first_name: str | None
    last_name: str | None
    is_member: bool
    tier_key: str | None


def generated_people(stack: ShopifyStack, count: int, seed: int) -> tuple[int, list[Person]]:
    shop, other = shop_pk(stack), install_shop(stack.app, OTHER_SHOP)
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        first, last = rng.choice(FIRSTS), rng.choice(LASTS)
        if rng.random() < 0.1:
            email = None
        elif rng.random() < 0.2:
            email = f"{rng.choice(['Zed', 'x', '100%_sure', 'emma'])}{n}@example.com"
        else:
            email = f"{(first or 'anon').replace(' ', '')}.{last or 'x'}{n}@Example.com"
        rows.append(
            {
                "shop_id": other if rng.random() < 0.25 else shop,
                "shopify_customer_id": None if rng.random() < 0.03 else 10_000 + n,
                "email": email,
                "first_name": first,
                "last_name": last,
                "is_member": rng.random() < 0.9,
                "tier_key": rng.choice(TIERS),
            }
        )
    with stack.kanta.db.transaction() as session:
        session.execute(insert(Customer), rows)
    with stack.kanta.db.read() as session:
        people = [
            Person(*row)
            for row in session.execute(
                text(
                    "SELECT id, shopify_customer_id, email, first_name, last_name, is_member,"
                    " tier_key FROM customers WHERE shop_id = :shop ORDER BY id DESC"
                ),
                {"shop": shop},
            )
        ]
    return shop, people


def expected_ids(people: list[Person], q: MembersQuery, first_tier: str) -> list[int]:
    """The list's definition, in Python: members of the shop, newest first."""

    def starts(value: str | None, prefix: str) -> bool:
        return value is not None and value.lower().startswith(prefix)

    def matches(p: Person) -> bool:
        if not q.text:
            return True
        first, _, rest = q.text.partition(" ")
        return (
            starts(p.email, q.text)
            or starts(p.first_name, q.text)
            or starts(p.last_name, q.text)
            or (bool(rest) and starts(p.first_name, first) and starts(p.last_name, rest.strip()))
        )

    def in_tier(p: Person) -> bool:
        if q.tier is None:
            return True
        return p.tier_key == q.tier or (q.tier == first_tier and p.tier_key is None)

    return [
        p.id
        for p in people
        if p.is_member
        and p.shopify_customer_id is not None
        and (q.after is None or p.id < q.after)
        and in_tier(p)
        and matches(p)
    ]


def page_of(stack: ShopifyStack, shop: AdminShop, q: MembersQuery, budget: Budget) -> dict:
    def read(connection: Connection) -> dict:
        return find_members(connection, shop, q, budget)

    return stack.kanta.db.run_read(read)


@pytest.fixture
def crowd(stack: ShopifyStack) -> tuple[AdminShop, list[Person]]:
    shop, people = generated_people(stack, 700, seed=12)
    return AdminShop(id=shop, domain="", program=ProgramSettings()), people


def typed_prefixes(people: list[Person]) -> st.SearchStrategy[str]:
    """What a merchant types: the start of someone's email or name, "first last…", in any case,
    or something nobody has."""
    values = sorted(
        {v for p in people for v in (p.email, p.first_name, p.last_name) if v is not None}
    )
    pairs = sorted({(p.first_name, p.last_name) for p in people if p.first_name and p.last_name})
    known = st.tuples(st.sampled_from(values), st.integers(1, 12)).map(lambda v: v[0][: v[1]])
    first_last = st.tuples(st.sampled_from(pairs), st.integers(1, 5)).map(
        lambda v: f"{v[0][0]} {v[0][1][: v[1]]}"
    )
    cased = (known | first_last).flatmap(
        lambda t: st.sampled_from([t, t.upper(), t.lower(), f"  {t} "])
    )
    return cased | st.text(alphabet="emzo .%_'a5", min_size=1, max_size=6)


# From walks that always spend their budget to one that never does (700 members), through walks
# that walk on before the arms and walks that go straight to the arms.
BUDGETS = [
    Budget(1, 1, 1),
    Budget(2, 5, 1),
    Budget(7, 30, 2),
    Budget(5, 10, 100),
    Budget(PAGE_SIZE + 1, 60, 4),
    Budget(60, 200, 4),
    Budget(),
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_walk_and_the_arms_answer_every_query_alike(
    stack: ShopifyStack, crowd: tuple[AdminShop, list[Person]], data: st.DataObject
) -> None:
    """Whichever budget, so whichever plan answers (the walk, the arms after a spent walk), the
    page is the list's definition: same members, same order, same cursor."""
    shop, people = crowd
    args = {
        "query": data.draw(st.none() | typed_prefixes(people), label="query") or "",
        "tier": data.draw(st.sampled_from(["", "bronze", "silver", "gold"]), label="tier"),
    }
    start = data.draw(st.none() | st.sampled_from([p.id for p in people]), label="after")
    if start is not None:
        args["after"] = encode_cursor(start)
    q = MembersQuery.from_args(args, shop.program)
    want = expected_ids(people, q, shop.program.tiers[0].key)
    pages = [page_of(stack, shop, q, budget) for budget in BUDGETS]
    by_id = {p.id: p for p in people}
    first = pages[0]
    assert [by_id[i].shopify_customer_id for i in want[:PAGE_SIZE]] == [
        int(m["customer_id"]) for m in first["members"]
    ]
    assert first["next_cursor"] == (
        encode_cursor(want[PAGE_SIZE - 1]) if len(want) > PAGE_SIZE else None
    )
    for other in pages[1:]:
        assert other == first


@pytest.mark.parametrize(
    "budget", [Budget(1, 1, 1), Budget(3, 40, 2), Budget(40, 40, 100), Budget()]
)
@pytest.mark.parametrize(
    "args",
    [
        {},
        {"query": "em"},
        {"query": "Emma Smi"},
        {"query": "zoe"},
        {"query": "zoe you"},
        {"query": "emma.smith"},
        {"tier": "bronze"},
        {"tier": "gold", "query": "smith"},
        {"tier": "bronze", "query": "z"},
    ],
)
def test_following_the_cursor_lists_every_match_once_in_order(
    stack: ShopifyStack, crowd: tuple[AdminShop, list[Person]], budget: Budget, args: dict
) -> None:
    shop, people = crowd
    want = expected_ids(people, MembersQuery.from_args(args, shop.program), "bronze")
    by_id = {p.id: p for p in people}
    seen: list[int] = []
    pages = 0
    cursor = None
    while True:
        q = MembersQuery.from_args({**args, **({"after": cursor} if cursor else {})}, shop.program)
        body = page_of(stack, shop, q, budget)
        seen += [int(m["customer_id"]) for m in body["members"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [by_id[i].shopify_customer_id for i in want]
    # Every page but the last is full.
    assert pages == max(1, -(-len(want) // PAGE_SIZE))


@dataclass
class Plan:
    indexes: set[str]  # read by the statement itself
    floor: set[str]  # read by its scalar subquery: the walk's floor
    scans: bool  # some table or index read whole


def plan_of(stack: ShopifyStack, statement: Any) -> Plan:
    def read(connection: Connection) -> Plan:
        plan = Plan(set(), set(), False)
        if connection.dialect.name == "postgresql":
            compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
            used = r"Index (?:Only )?Scan(?: Backward)? (?:using|on) (\w+)"
            subplan_indent: int | None = None
            for (line,) in connection.exec_driver_sql(f"EXPLAIN {compiled}"):
                indent = len(line) - len(line.lstrip())
                if subplan_indent is not None and indent <= subplan_indent:
                    subplan_indent = None
                if line.lstrip().startswith("InitPlan"):
                    subplan_indent = indent
                found = plan.floor if subplan_indent is not None else plan.indexes
                found.update(re.findall(used, line))
                plan.scans = plan.scans or "Seq Scan" in line
            return plan
        compiled = statement.compile(connection)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
        parents = {row[0]: row[1] for row in rows}
        details = {row[0]: row[-1] for row in rows}

        def in_subquery(node: int) -> bool:
            while node:
                if details.get(node, "").startswith("SCALAR SUBQUERY"):
                    return True
                node = parents.get(node, 0)
            return False

        for node, detail in details.items():
            found = plan.floor if in_subquery(node) else plan.indexes
            found.update(re.findall(r"USING (?:COVERING )?INDEX (\w+)", detail))
            # A SEARCH is a range; a SCAN reads it all.
            plan.scans = plan.scans or bool(re.match(r"SCAN (?:customers|ix_)", detail))
        return plan

    return stack.kanta.db.run_read(read)


MEMBER_INDEX, TIER_INDEX = "ix_customers_shop_member_id", "ix_customers_shop_tier_id"
PREFIXES = {
    "ix_customers_shop_email_prefix",
    "ix_customers_shop_first_last_prefix",
    "ix_customers_shop_last_name_prefix",
}
ORDERED = {MEMBER_INDEX, TIER_INDEX, "customers_pkey"}
# Each access path: the index its walk reads; the indexes its arms read (None: no arms), and the
# ones they must not (a search's arm never walks in id order; the first tier's arms are ordered
# walks, on the member index for its common key or the tier index for the unplaced).
PLANS: dict[str, tuple[MembersQuery, str, set[str] | None, set[str]]] = {
    "first page": (MembersQuery(), MEMBER_INDEX, None, set()),
    "tier": (MembersQuery(tier="gold"), TIER_INDEX, None, set()),
    "first tier": (MembersQuery(tier="bronze"), MEMBER_INDEX, {TIER_INDEX}, PREFIXES),
    "prefix": (MembersQuery(text="user1234"), MEMBER_INDEX, PREFIXES, ORDERED),
    "a page down": (MembersQuery(after=4000), MEMBER_INDEX, None, set()),
    "first last": (MembersQuery(text="first12 last1"), MEMBER_INDEX, PREFIXES, ORDERED),
    "tier and prefix": (MembersQuery(text="last77", tier="gold"), TIER_INDEX, PREFIXES, ORDERED),
}


def test_every_access_path_reads_its_index(stack: ShopifyStack) -> None:
    """EXPLAIN of each statement the list runs, on a table big enough that a scan of the table
    would be cheaper than an index if the index were not usable: the walk reads the index that
    gives id order, within its budget; each arm reads its own prefix index, never a walk. The
    budget is cut to the table's scale (a fiftieth of the shop, where 5,000 is a two-hundredth
    of a million-member shop): a walk of 40 % of the shop may rightly be a sort instead."""
    shop = shop_pk(stack)
    other = install_shop(stack.app, OTHER_SHOP)
    # Ours first (lower ids), then a bigger shop: no plan may wade through the other's rows.
    numbers = (
        "generate_series(1, :count) AS n"
        if stack.kanta.db.engine.dialect.name == "postgresql"
        else "(WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq"
        " WHERE n < :count) SELECT n FROM seq)"
    )
    # A bulk load: no statement deadline (a busy machine takes seconds over it).
    with stack.kanta.db.transaction(long_running=True) as session:
        for owner, count in ((shop, 5000), (other, 40000)):
            session.execute(
                text(
                    "INSERT INTO customers (shop_id, shopify_customer_id, email, first_name,"
                    " last_name, is_member, points_balance, pending_points, tier_points, tier_key,"
                    " created_at, updated_at) SELECT :shop, n, 'user' || n || '@example.com',"
                    " 'First' || n, 'Last' || n, true, 0, 0, 0,"
                    " CASE WHEN n % 10 = 0 THEN 'gold' ELSE 'bronze' END,"
                    f" '2026-03-02 12:00:00', '2026-03-02 12:00:00' FROM {numbers}"
                ),
                {"shop": owner, "count": count},
            )
        session.execute(text("ANALYZE"))
    program = ProgramSettings()
    for name, (q, walk_index, arm_indexes, never) in PLANS.items():
        search = member_search(shop, program, q, stack.kanta.db.engine.dialect.name, budget=100)
        # The statements with this query's values in them (they are parameters).
        statements = [
            statement.params(search.params)
            for statement in (search.walk, search.arms)
            if statement is not None
        ]
        walk = plan_of(stack, statements[0])
        assert walk.indexes == {walk_index}, (name, walk)
        assert walk.floor <= {walk_index}, (name, walk)  # on SQLite, the walk stops at it
        assert not walk.scans, name
        # Pages are keyset: the only OFFSETs are the budget's floor and the arms' fence.
        for statement in statements:
            sql = str(statement.compile(compile_kwargs={"literal_binds": True}))
            assert set(re.findall(r"OFFSET (\d+)", sql)) <= {"99", "0"}, (name, sql)
        if arm_indexes is None:
            assert search.arms is None, name
            continue
        assert search.arms is not None, name
        arms = plan_of(stack, statements[1])
        assert arm_indexes <= arms.indexes, (name, arms)
        assert not arms.indexes & never, (name, arms)
        assert not arms.scans, name

"""The program editor's API: read, replace, refuse (changing nothing), audit, and the example."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from plugin.models import ProgramChange, Reward, Shop
from tests.admin.conftest import bearer, page, shop_pk
from tests.conftest import OTHER_SHOP, SHOP, install_shop
from tests.shopify_fixtures import ShopifyStack


def program_of(stack: ShopifyStack) -> dict[str, Any]:
    response = stack.client.get("/api/admin/program", headers=bearer())
    assert response.status_code == 200
    return response.get_json()


def stored(
    stack: ShopifyStack, domain: str = SHOP
) -> tuple[dict[str, Any], list[tuple[Any, ...]], int]:
    with stack.kanta.db.read() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == domain)).one()
        rewards = session.execute(
            select(Reward.id, Reward.title, Reward.points_cost, Reward.value, Reward.active)
            .where(Reward.shop_id == shop.id)
            .order_by(Reward.id)
        ).all()
        changes = len(list(session.scalars(select(ProgramChange.id))))
        return dict(shop.program), [tuple(r) for r in rewards], changes


def test_get_shows_the_defaults_and_the_install_rewards(stack: ShopifyStack) -> None:
    body = program_of(stack)
    assert body["earn_rate"] == "1"
    assert body["award_on"] == "paid"
    assert body["amount_refunds_reverse_points"] is True
    assert [t["name"] for t in body["tiers"]] == ["Bronze", "Silver", "Gold"]
    assert body["currency"] == "USD"
    assert all(isinstance(r["id"], str) for r in body["rewards"])


def test_put_saves_settings_and_rewards_and_audits_who_and_what(stack: ShopifyStack) -> None:
    body = program_of(stack)
    body.update(earn_rate="2.5", pending_days=14, expiry_days=365, award_on="fulfilled")
    body["amount_refunds_reverse_points"] = False
    body["tiers"] = [
        {"name": "Member", "threshold": 0, "multiplier": "1"},
        {"name": "VIP", "threshold": 1000, "multiplier": "2"},
    ]
    body["rewards"] = [
        {"title": "5.00 off", "kind": "fixed_amount", "points_cost": 500, "value": "5.00"},
        {"title": "Free shipping", "kind": "free_shipping", "points_cost": 300},
    ]
    before = stored(stack)

    response = stack.client.put("/api/admin/program", json=body, headers=bearer(user_id="77"))

    assert response.status_code == 200, response.get_json()
    saved = response.get_json()
    assert saved["earn_rate"] == "2.5"
    assert saved["pending_days"] == 14
    assert saved["amount_refunds_reverse_points"] is False
    assert [t["name"] for t in saved["tiers"]] == ["Member", "VIP"]
    assert {(r["title"], r["kind"], r["value"]) for r in saved["rewards"]} >= {
        ("5.00 off", "fixed_amount", "5.00"),
        ("Free shipping", "free_shipping", "0.00"),
    }
    assert program_of(stack) == saved
    changes = stack.client.get("/api/admin/program/changes", headers=bearer()).get_json()["changes"]
    assert len(changes) == 1
    change = changes[0]
    assert change["changed_by"] == "77"
    assert change["before"]["earn_rate"] == "1"
    assert change["after"]["earn_rate"] == "2.5"
    assert {"earn_rate", "pending_days", "tiers", "rewards", "award_on"} <= set(change["fields"])
    assert stored(stack)[2] == before[2] + 1


def test_editing_and_deactivating_a_reward_keeps_its_row(stack: ShopifyStack) -> None:
    body = program_of(stack)
    body["rewards"] = [{"title": "Gift", "kind": "store_credit", "points_cost": 100, "value": "1"}]
    created = stack.client.put("/api/admin/program", json=body, headers=bearer()).get_json()
    gift = next(r for r in created["rewards"] if r["title"] == "Gift")
    body["rewards"] = [{**gift, "title": "Gift card", "active": False}]

    saved = stack.client.put("/api/admin/program", json=body, headers=bearer()).get_json()

    edited = next(r for r in saved["rewards"] if r["id"] == gift["id"])
    assert (edited["title"], edited["active"], edited["kind"]) == (
        "Gift card",
        False,
        "store_credit",
    )


def test_a_save_that_changes_nothing_is_not_audited(stack: ShopifyStack) -> None:
    body = program_of(stack)
    assert stack.client.put("/api/admin/program", json=body, headers=bearer()).status_code == 200
    assert stored(stack)[2] == 0


def test_any_invalid_value_answers_422_per_field_and_changes_nothing(stack: ShopifyStack) -> None:
    good = program_of(stack)
    before = stored(stack)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"earn_rate": "-1"}, "earn_rate"),
        ({"earn_rate": 1.5}, "earn_rate"),  # a float is never money
        ({"pending_days": 400}, "pending_days"),
        ({"expiry_days": 0}, "expiry_days"),
        ({"award_on": "shipped"}, "award_on"),
        ({"amount_refunds_reverse_points": "yes"}, "amount_refunds_reverse_points"),
        ({"tiers": [{"name": "A", "threshold": 10, "multiplier": "1"}]}, "tiers"),
        ({"no_such_setting": 1}, "no_such_setting"),
        (
            {"rewards": [{"title": "", "kind": "fixed_amount", "points_cost": 5, "value": "1"}]},
            "rewards.0.title",
        ),
        (
            {"rewards": [{"title": "X", "kind": "bogus", "points_cost": 5, "value": "1"}]},
            "rewards.0.kind",
        ),
        (
            {"rewards": [{"title": "X", "kind": "percentage", "points_cost": 5, "value": "150"}]},
            "rewards.0.value",
        ),
        (
            {"rewards": [{"title": "X", "kind": "fixed_amount", "points_cost": 0, "value": "1"}]},
            "rewards.0.points_cost",
        ),
    ]
    for change, field in cases:
        # A valid change rides along: it must not be saved either.
        body = {**good, "welcome_bonus": 999, **change}
        response = stack.client.put("/api/admin/program", json=body, headers=bearer())
        assert response.status_code == 422, change
        assert field in response.get_json()["errors"], (change, response.get_json())
        assert stored(stack) == before, change


def test_a_reward_of_another_shop_cannot_be_edited(stack: ShopifyStack) -> None:
    other = install_shop(stack.app, OTHER_SHOP)
    with stack.kanta.db.transaction() as session:
        theirs = Reward(
            shop_id=other, title="Theirs", points_cost=1, reward_type="fixed_amount", value=1
        )
        session.add(theirs)
        session.flush()
        their_id = theirs.id
    body = program_of(stack)
    body["welcome_bonus"] = 5
    body["rewards"] = [
        {
            "id": str(their_id),
            "title": "Mine now",
            "kind": "fixed_amount",
            "points_cost": 1,
            "value": "1",
        }
    ]
    before_mine, before_theirs = stored(stack), stored(stack, OTHER_SHOP)

    response = stack.client.put("/api/admin/program", json=body, headers=bearer())

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"rewards.0.id": "not a reward of this shop"}
    assert stored(stack) == before_mine
    assert stored(stack, OTHER_SHOP) == before_theirs


def test_a_token_of_one_shop_reads_and_changes_only_its_own_program(stack: ShopifyStack) -> None:
    install_shop(stack.app, OTHER_SHOP, program={"earn_rate": "7"})
    mine = program_of(stack)
    theirs = stack.client.get("/api/admin/program", headers=bearer(OTHER_SHOP)).get_json()
    assert (mine["earn_rate"], theirs["earn_rate"]) == ("1", "7")
    stack.client.put("/api/admin/program", json={**mine, "earn_rate": "3"}, headers=bearer())
    assert (
        stack.client.get("/api/admin/program", headers=bearer(OTHER_SHOP)).get_json()["earn_rate"]
        == "7"
    )
    assert stack.client.get(
        "/api/admin/program/changes", headers=bearer(OTHER_SHOP)
    ).get_json() == {"changes": []}


def test_the_example_uses_the_ledgers_arithmetic_for_each_tier(stack: ShopifyStack) -> None:
    # 100.00 × 1.5 points per USD × tier multiplier, rounded down: 150, 187 (187.5), 225.
    draft = {**program_of(stack), "earn_rate": "1.5"}
    response = stack.client.post(
        "/api/admin/program/example", json={"amount": "100.00", "program": draft}, headers=bearer()
    )
    assert response.status_code == 200
    assert [(t["tier"], t["points"]) for t in response.get_json()["tiers"]] == [
        ("Bronze", 150),
        ("Silver", 187),
        ("Gold", 225),
    ]
    refused = stack.client.post(
        "/api/admin/program/example", json={"amount": "lots"}, headers=bearer()
    )
    assert refused.status_code == 422
    assert "amount" in refused.get_json()["errors"]


def test_program_page_shows_the_form_example_and_history(stack: ShopifyStack) -> None:
    body = program_of(stack)
    stack.client.put(
        "/api/admin/program", json={**body, "pending_days": 3}, headers=bearer(user_id="9")
    )

    html = page(stack, "/program").get_data(as_text=True)

    assert 'name="earn_rate"' in html
    assert 'name="amount_refunds_reverse_points"' in html
    assert "What an order earns" in html
    assert "Staff 9" in html
    assert "pending days" in html
    assert 'data-error-for="earn_rate"' in html


def test_unauthenticated_calls_are_refused(stack: ShopifyStack) -> None:
    assert stack.client.get("/api/admin/program").status_code == 401
    assert stack.client.put("/api/admin/program", json={}).status_code == 401
    assert shop_pk(stack) > 0


def test_a_partial_put_changes_only_what_it_names(stack: ShopifyStack) -> None:
    before = program_of(stack)
    response = stack.client.put("/api/admin/program", json={"earn_rate": "3"}, headers=bearer())
    assert response.status_code == 200
    after = response.get_json()
    assert after["earn_rate"] == "3"
    assert after["tiers"] == before["tiers"]
    assert after["rewards"] == before["rewards"]
    assert after["welcome_bonus"] == before["welcome_bonus"]

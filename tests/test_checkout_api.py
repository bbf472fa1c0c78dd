"""The widget API end to end: checkout session tokens, the loyalty object, one-tick join with
its welcome bonus, redeeming points for codes and store credit at the devstore (including
Shopify refusing, failing and losing the answer), and the shopper's own choices."""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask

from devstore.signing import mint_admin_session_token, mint_checkout_session_token
from tests.checkout_kit import CheckoutStack
from tests.conftest import API_KEY, API_SECRET, OTHER_SHOP, SHOP, Clock, install_shop

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def stack(make_app: Callable[..., Flask], clock: Clock) -> CheckoutStack:
    return CheckoutStack(make_app, clock)


# ---------------------------------------------------------------------------- tokens, CORS


def test_guest_sees_the_join_offer_and_what_the_cart_would_earn(stack: CheckoutStack) -> None:
    response = stack.call("GET", "loyalty", None, subtotal="42.50")

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["member"] is False
    assert body["guest"] is True
    assert body["points"] == 0
    assert body["tier"] == {"name": "Bronze", "multiplier": "1"}
    assert body["points_for_cart"] == 42  # floor(42.50 × 1 × 1)
    assert body["join"] == {"welcome_bonus": 100, "requires_login": True}
    assert body["preferences"] == {"payment_method": None, "delivery_option": None, "source": None}
    assert [r["title"] for r in body["rewards"]] == ["5.00 off", "5.00 store credit"]
    assert not any(r["redeemable"] for r in body["rewards"])


def test_answers_are_per_token_and_never_stored_by_a_cache(stack: CheckoutStack) -> None:
    for response in (
        stack.call("GET", "loyalty", stack.shopper_id()),
        stack.call("GET", "loyalty", None, token="not-a-jwt"),
    ):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers.getlist("Vary") == ["Authorization"]
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_allows_the_widget_headers_from_any_origin(stack: CheckoutStack) -> None:
    response = stack.client.options(
        "/api/checkout/redeem",
        headers={
            "Origin": "https://extensions.shopifycdn.com",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    allowed = response.headers["Access-Control-Allow-Headers"]
    assert "Authorization" in allowed
    assert "Idempotency-Key" in allowed


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        mint_checkout_session_token(
            SHOP, API_KEY, "another-secret-entirely-0123456789", customer_id=1
        ),
        mint_checkout_session_token(SHOP, "another-app", API_SECRET, customer_id=1),
        mint_checkout_session_token(
            SHOP, API_KEY, API_SECRET, customer_id=1, now=datetime.now(UTC) - timedelta(hours=1)
        ),
        mint_checkout_session_token("evil.example.com", API_KEY, API_SECRET, customer_id=1),
    ],
    ids=["garbage", "wrong-secret", "wrong-audience", "expired", "not-a-shop"],
)
def test_bad_or_expired_tokens_are_401(stack: CheckoutStack, token: str) -> None:
    response = stack.call("GET", "loyalty", None, token=token)
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_no_token_is_401(stack: CheckoutStack) -> None:
    assert stack.client.get("/api/checkout/loyalty").status_code == 401


def test_an_admin_session_token_does_not_open_the_widget_api(stack: CheckoutStack) -> None:
    admin = mint_admin_session_token(SHOP, API_KEY, API_SECRET)
    assert stack.call("GET", "loyalty", None, token=admin).status_code == 401


def test_a_subject_that_is_not_a_customer_is_401(stack: CheckoutStack) -> None:
    import jwt

    now = int(datetime.now(UTC).timestamp())
    claims = {
        "dest": SHOP,
        "aud": API_KEY,
        "exp": now + 60,
        "nbf": now,
        "sub": "gid://shopify/StaffMember/1",
    }
    token = jwt.encode(claims, API_SECRET, algorithm="HS256")
    assert stack.call("GET", "loyalty", None, token=token).status_code == 401


def test_a_shop_without_kanta_gets_a_clear_403(stack: CheckoutStack) -> None:
    token = stack.token(stack.shopper_id(), shop="never-installed.myshopify.com")
    response = stack.call("GET", "loyalty", None, token=token)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Kanta is not installed on this shop"}


def test_one_shops_token_never_reads_another_shops_member(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    install_shop(stack.app, OTHER_SHOP)  # the same Shopify customer id, another shop

    other = stack.call("GET", "loyalty", None, token=stack.token(ada, shop=OTHER_SHOP)).get_json()
    mine = stack.loyalty(ada)

    assert mine["member"] is True
    assert mine["points"] == 100
    assert other["member"] is False
    assert other["points"] == 0


def test_bad_subtotal_is_400(stack: CheckoutStack) -> None:
    for raw in ("abc", "-1", "1.234", "NaN", "1e99"):
        assert stack.call("GET", "loyalty", None, subtotal=raw).status_code == 400, raw


# ---------------------------------------------------------------------------- join


def test_join_makes_a_member_records_consent_and_pays_the_welcome_bonus_once(
    stack: CheckoutStack,
) -> None:
    ada = stack.shopper_id()

    first = stack.join(ada, consent=True)
    again = stack.join(ada, consent=False)

    assert first["member"] is True
    assert first["points"] == 100
    assert first["marketing_consent"] is True
    assert again["points"] == 100
    assert again["marketing_consent"] is False
    assert stack.entries(ada) == [("welcome_bonus", 100)]
    assert again["recent"][0]["description"] == "Welcome bonus for joining"
    # The checkout metafield now says so (written after commit by the sync job).
    assert stack.metafield(ada) == {
        "delivery_option": None,
        "member": True,
        "payment_method": None,
        "points": 100,
        "tier": "Bronze",
    }


def test_a_guest_cannot_join(stack: CheckoutStack) -> None:
    response = stack.call("POST", "join", None, {"marketing_consent": True})
    assert response.status_code == 403


def test_join_refuses_a_consent_that_is_not_a_boolean(stack: CheckoutStack) -> None:
    response = stack.call("POST", "join", stack.shopper_id(), {"marketing_consent": "yes"})
    assert response.status_code == 400
    assert stack.customer_row(stack.shopper_id()) is None  # nothing written


# ---------------------------------------------------------------------------- a member's view


def test_a_member_sees_balance_tier_progress_and_points_for_the_cart(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 500)  # spendable points; tier points come from orders only
    stack.order(ada, "PayPal", "Express", quantity=9)  # 9 × 64.00 = 576.00 → 576 points

    body = stack.loyalty(ada, subtotal="100.00")

    assert body["member"] is True
    assert body["points"] == 100 + 500 + 576
    assert body["tier"] == {"name": "Silver", "multiplier": "1.25"}
    assert body["next_tier"] == {"name": "Gold", "points_needed": 1500 - 576}
    assert body["points_for_cart"] == 125
    assert [r["redeemable"] for r in body["rewards"]] == [True, True]
    assert body["recent"][0] == {
        "points": 576,
        "description": "Points for your order",
        "at": body["recent"][0]["at"],
    }
    assert datetime.fromisoformat(body["recent"][0]["at"]).tzinfo is not None


# ---------------------------------------------------------------------------- redeem


def test_not_enough_points_is_422_and_takes_nothing(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.join(ada)

    response = stack.redeem(ada, stack.reward_id("fixed_amount"))

    assert response.status_code == 422
    assert response.get_json()["needed"] == 500
    assert stack.entries(ada) == [("welcome_bonus", 100)]
    assert stack.calls("discountCodeBasicCreate") == []


def test_redeem_a_fixed_amount_issues_a_single_use_code_for_this_customer(
    stack: CheckoutStack,
) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 500)

    response = stack.redeem(ada, stack.reward_id("fixed_amount"))

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["kind"] == "discount_code"
    assert body["code"].startswith("KANTA-")
    assert (body["amount"], body["currency"], body["points"]) == ("5.00", "USD", 100)
    [discount] = stack.store.discounts(SHOP)
    assert discount["code"] == body["code"]
    assert discount["amount"] == "5.00"
    assert discount["usage_limit"] == 1
    assert discount["customer_ids"] == [ada]
    ends = datetime.fromisoformat(discount["ends_at"])
    assert timedelta(0) < ends - stack.kanta.now() <= timedelta(days=7)
    assert stack.entries(ada)[-1] == ("redemption", -500)
    # The code works at the store for Ada, once.
    order = stack.order(ada, "PayPal", "Standard", discount_code=body["code"])
    assert Decimal(order["total_discounts"]) == Decimal("5.00")


def test_a_replayed_redeem_answers_the_same_reward_and_takes_points_once(
    stack: CheckoutStack,
) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 1000)
    key = uuid.uuid4().hex

    first = stack.redeem(ada, stack.reward_id("fixed_amount"), key)
    replay = stack.redeem(ada, stack.reward_id("fixed_amount"), key)

    assert first.status_code == replay.status_code == 200
    assert replay.get_json() == first.get_json()
    assert [e for e in stack.entries(ada) if e[0] == "redemption"] == [("redemption", -500)]
    assert len(stack.calls("discountCodeBasicCreate")) == 1
    # The same key for another reward is refused, not answered with the first reward.
    other = stack.redeem(ada, stack.reward_id("store_credit"), key)
    assert other.status_code == 422


def test_redeem_store_credit_credits_the_customers_account_in_the_shops_currency(
    stack: CheckoutStack,
) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 400)

    response = stack.redeem(ada, stack.reward_id("store_credit"))

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["kind"], body["code"], body["amount"], body["currency"]) == (
        "store_credit",
        None,
        "5.00",
        "USD",
    )
    assert body["points"] == 0
    [account] = stack.store.store_credit_accounts(SHOP, ada)
    assert (account["currency"], account["balance"]) == ("USD", "5.00")
    [redemption] = stack.redemptions()
    assert redemption.status == "issued"
    assert redemption.store_credit_transaction_id.endswith(str(account["transactions"][0]["id"]))


@pytest.mark.parametrize("kind", ["fixed_amount", "store_credit"])
def test_shopify_refusing_the_reward_gives_the_points_back(stack: CheckoutStack, kind: str) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 400)
    stack.store.graphql_fail_next(1, "user_error")

    response = stack.redeem(ada, stack.reward_id(kind))

    assert response.status_code == 502
    assert response.get_json()["points"] == 500
    assert stack.entries(ada)[-2:] == [("redemption", -500), ("redemption_refund", 500)]
    [redemption] = stack.redemptions()
    assert redemption.status == "refunded"
    assert stack.store.discounts(SHOP) == []
    assert stack.store.store_credit_accounts(SHOP, ada) == []
    assert stack.loyalty(ada)["recent"][0]["description"] == (
        "Points returned: the reward could not be issued"
    )


def test_a_lost_store_credit_answer_is_reconciled_and_never_paid_twice(
    stack: CheckoutStack,
) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 400)
    stack.store.graphql_fail_next(1, "lost_response")  # credited at Shopify, answer lost
    key = uuid.uuid4().hex

    first = stack.redeem(ada, stack.reward_id("store_credit"), key)
    replay = stack.redeem(ada, stack.reward_id("store_credit"), key)

    assert first.status_code == 503
    assert first.get_json()["status"] == "pending"
    # The reconcile job (run after the answer was marked unknown) found the credit.
    assert replay.status_code == 200, replay.get_data(as_text=True)
    assert replay.get_json()["kind"] == "store_credit"
    [account] = stack.store.store_credit_accounts(SHOP, ada)
    assert account["balance"] == "5.00"
    assert len(account["transactions"]) == 1
    assert len(stack.calls("storeCreditAccountCredit")) == 1  # never sent again
    assert [e for e in stack.entries(ada) if e[0].startswith("redemption")] == [
        ("redemption", -500)
    ]


def test_a_failed_code_call_is_reconciled_by_its_code_and_refunded_when_absent(
    stack: CheckoutStack,
) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 400)
    stack.store.graphql_fail_next(1, "http500")  # Shopify failed before creating anything

    response = stack.redeem(ada, stack.reward_id("fixed_amount"))

    assert response.status_code == 503
    assert len(stack.calls("discountCodeBasicCreate")) == 1  # a 5xx is not retried blindly
    assert len(stack.calls("codeDiscountNodeByCode")) == 1
    [redemption] = stack.redemptions()
    assert redemption.status == "refunded"
    assert stack.customer_row(ada).points_balance == 500  # type: ignore[union-attr]


def test_a_lost_code_answer_is_reconciled_as_issued(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 400)
    stack.store.graphql_fail_next(1, "lost_response")
    key = uuid.uuid4().hex

    assert stack.redeem(ada, stack.reward_id("fixed_amount"), key).status_code == 503
    replay = stack.redeem(ada, stack.reward_id("fixed_amount"), key)

    assert replay.status_code == 200
    [discount] = stack.store.discounts(SHOP)
    assert replay.get_json()["code"] == discount["code"]
    assert stack.customer_row(ada).points_balance == 0  # type: ignore[union-attr]


def test_free_shipping_and_percentage_rewards(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 300)
    shipping = stack.add_reward("free_shipping", "0", cost=200)
    percent = stack.add_reward("percentage", "10", cost=200)

    free = stack.redeem(ada, shipping)
    tenth = stack.redeem(ada, percent)

    assert free.status_code == tenth.status_code == 200
    assert len(stack.calls("discountCodeFreeShippingCreate")) == 1
    by_code = {d["code"]: d for d in stack.store.discounts(SHOP)}
    assert by_code[free.get_json()["code"]]["free_shipping"] is True
    assert by_code[tenth.get_json()["code"]]["percentage"] == "0.1"
    assert by_code[free.get_json()["code"]]["customer_ids"] == [ada]


def test_redeem_needs_a_key_a_member_and_a_reward_of_this_shop(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    reward = stack.reward_id("fixed_amount")
    no_key = stack.call("POST", "redeem", ada, {"reward_id": str(reward)})
    assert no_key.status_code == 400
    assert stack.redeem(ada, reward).status_code == 403  # not a member yet
    stack.join(ada)
    assert stack.redeem(ada, 987654321).status_code == 404
    guest = stack.call(
        "POST", "redeem", None, {"reward_id": str(reward)}, headers={"Idempotency-Key": "k" * 16}
    )
    assert guest.status_code == 403


# ---------------------------------------------------------------------------- preferences


def test_choices_win_over_learned_until_cleared(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    for _ in range(3):
        stack.order(ada, "PayPal", "Express")
    learned = stack.loyalty(ada)["preferences"]
    assert learned == {
        "payment_method": "PayPal",
        "delivery_option": "Express",
        "source": "learned",
    }

    chosen = stack.call(
        "POST", "preferences", ada, {"payment_method": "Bank Deposit", "marketing_consent": False}
    ).get_json()
    assert chosen["preferences"] == {
        "payment_method": "Bank Deposit",
        "delivery_option": "Express",
        "source": "chosen",
    }
    assert chosen["marketing_consent"] is False
    assert stack.metafield(ada)["payment_method"] == "Bank Deposit"  # type: ignore[index]

    cleared = stack.call("POST", "preferences", ada, {"payment_method": None}).get_json()
    assert cleared["preferences"]["payment_method"] == "PayPal"
    assert cleared["preferences"]["source"] == "learned"
    assert stack.metafield(ada)["payment_method"] == "PayPal"  # type: ignore[index]


def test_preferences_refuse_bad_input_and_write_nothing(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    for body in ({"payment_method": 3}, {"payment_method": " "}, {"colour": "red"}, ["x"]):
        assert stack.call("POST", "preferences", ada, body).status_code == 400, body
    assert stack.loyalty(ada)["preferences"]["source"] is None


def test_learning_from_orders_and_the_metafield_the_functions_read(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    stack.order(ada, "PayPal", "Express")
    stack.order(ada, "Credit card", "Standard")
    stack.order(ada, "PayPal", "Express")
    stack.order(ada, "PayPal", "Free pickup in store")  # pickup teaches no delivery

    value = stack.metafield(ada)
    assert value is not None
    assert value["payment_method"] == "PayPal"
    assert value["delivery_option"] == "Express"
    assert value["member"] is True
    assert value["tier"] == "Bronze"
    assert value["points"] == stack.customer_row(ada).points_balance  # type: ignore[union-attr]
    assert (
        len(
            stack.store.find_metafield(  # compact, far below Shopify's 10,000 bytes
                SHOP,
                f"gid://shopify/Customer/{ada}",
                f"app--{stack.store.app_id}--kanta",
                "preferences",
            )["value"]
        )
        < 200
    )  # type: ignore[index]


def test_the_metafield_is_written_only_when_its_value_changes(stack: CheckoutStack) -> None:
    from plugin.jobs import JOBS

    ada = stack.shopper_id()
    stack.join(ada)
    row = stack.customer_row(ada)
    assert row is not None
    writes = len(stack.calls("metafieldsSet"))

    again = JOBS["sync_customer_metafield"](stack.kanta, shop_id=row.shop_id, customer_pk=row.id)

    assert again is False
    assert len(stack.calls("metafieldsSet")) == writes


def test_the_metafield_sync_backs_off_when_throttled(stack: CheckoutStack) -> None:
    ada = stack.shopper_id()
    stack.store.graphql_fail_next(2, "throttle")

    stack.join(ada)

    outcomes = [c["outcome"] for c in stack.calls("metafieldsSet")]
    assert outcomes == ["throttled", "throttled", "ok"]
    assert len(stack.waits) == 2
    assert all(w > 0 for w in stack.waits)
    assert stack.metafield(ada)["member"] is True  # type: ignore[index]


def test_a_redeemed_free_shipping_code_makes_the_next_orders_shipping_free(
    stack: CheckoutStack,
) -> None:
    ada = stack.shopper_id()
    stack.join(ada)
    reward = stack.add_reward("free_shipping", "0", cost=100)
    code = stack.redeem(ada, reward).get_json()["code"]

    order = stack.order(ada, "PayPal", "Express", discount_code=code)

    assert Decimal(order["total_shipping_price_set"]["shop_money"]["amount"]) == Decimal("0.00")
    assert stack.store.discount_by_code(SHOP, code)["used"] == 1  # type: ignore[index]


def test_a_replay_answers_the_reward_even_after_the_merchant_retired_it(
    stack: CheckoutStack,
) -> None:
    from plugin.models import Reward

    ada = stack.shopper_id()
    stack.join(ada)
    stack.give_points(ada, 400)
    reward_id = stack.reward_id("fixed_amount")
    first = stack.redeem(ada, reward_id, "replay-after-retire")
    with stack.kanta.db.transaction() as session:
        reward = session.get(Reward, reward_id)
        assert reward is not None
        reward.active = False

    replay = stack.redeem(ada, reward_id, "replay-after-retire")
    fresh = stack.redeem(ada, reward_id)

    assert replay.status_code == 200
    assert replay.get_json()["code"] == first.get_json()["code"]
    assert fresh.status_code == 404


# ---------------------------------------------------------------------------- hot path


def test_a_verified_token_is_remembered_until_its_exp_and_never_past_it(
    stack: CheckoutStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plugin.checkout import auth

    customer = stack.shopper_id()
    token = stack.token(customer)
    calls: list[int] = []
    real = auth._verify

    def counting() -> tuple[auth.Shopper, float]:
        calls.append(1)
        return real()

    monkeypatch.setattr(auth, "_verify", counting)
    for _ in range(3):
        stack.call("GET", "loyalty", customer, token=token)
    assert len(calls) == 1  # verified once, then remembered for the exact same header
    stack.call("GET", "loyalty", customer, token=stack.token(customer))
    assert len(calls) == 2  # a new token string is verified in full
    with stack.app.app_context():
        cache = auth.verified_tokens()
        monkeypatch.setattr(cache, "_clock", lambda: time.time() + 301)  # past exp (300 s)
    stack.call("GET", "loyalty", customer, token=token)
    assert len(calls) == 3


def test_a_rejected_token_is_rejected_every_time(stack: CheckoutStack) -> None:
    bad = stack.token(stack.shopper_id()) + "x"
    statuses = [stack.call("GET", "loyalty", None, token=bad).status_code for _ in range(2)]
    assert statuses == [401, 401]


@pytest.mark.postgres_only
def test_a_dead_pooled_read_connection_is_retried_not_a_5xx(stack: CheckoutStack) -> None:
    """The read engine has no pre-ping: a connection the server ended must be retried once."""
    customer = stack.shopper_id()
    db = stack.kanta.db
    reader = stack.kanta.extras
    assert stack.call("GET", "loyalty", customer).status_code == 200
    with db.read_engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with db.engine.connect() as other:
        other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    reader["checkout_reader"].customers.clear()
    reader["checkout_reader"].shops.clear()
    response = stack.call("GET", "loyalty", customer)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_cached_reads_are_not_tracked_by_the_garbage_collector(stack: CheckoutStack) -> None:
    """Every cached shopper (view and verified token) must be exact tuples of atoms: a cached
    object graph per shopper made each full collection walk them all, pausing requests for
    30–120 ms at 10,000 shoppers (bench/README.md)."""
    from plugin.checkout import auth

    customer = stack.shopper_id()
    stack.join(customer)
    stack.order(customer, "PayPal", "Express")  # a learned choice and recent entries to cache
    answer = stack.call("GET", "loyalty", customer).get_json()
    assert answer["recent"]
    assert answer["preferences"]["payment_method"] == "PayPal"
    # A pass untracks a tuple whose items are already untracked, so nesting four deep (entry,
    # view, recent, one entry) is untracked after four; a worker runs thousands of passes.
    for _ in range(4):
        gc.collect()
    with stack.app.app_context():
        tokens = auth.verified_tokens()._entries
    views = stack.kanta.extras["checkout_reader"].customers._entries
    assert views
    assert tokens
    tracked = [entry for entry in [*views.values(), *tokens.values()] if gc.is_tracked(entry)]
    assert tracked == []
    # and a cached answer is the same answer
    assert stack.call("GET", "loyalty", customer).get_json() == answer

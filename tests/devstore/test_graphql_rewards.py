"""Admin GraphQL answers for rewards: free-shipping codes, store credit, looking a code up, and
a call whose answer is lost after it ran."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from devstore_testkit import SHOP

from devstore import DevStore
from plugin.shopify.rewards import (
    DISCOUNT_BY_CODE,
    FREE_SHIPPING_CODE_CREATE,
    STORE_CREDIT_CREDIT,
    STORE_CREDIT_TRANSACTIONS,
)

GQL = Callable[..., httpx.Response]


def _credit(customer_id: int, amount: str = "5.00", currency: str = "USD") -> dict[str, object]:
    return {
        "id": f"gid://shopify/Customer/{customer_id}",
        "creditInput": {"creditAmount": {"amount": amount, "currencyCode": currency}},
    }


def test_store_credit_creates_the_account_and_adds_up(
    graphql: GQL, store: DevStore, offline_token: str
) -> None:
    ada = store.customers(SHOP)[0]["id"]

    first = graphql(offline_token, STORE_CREDIT_CREDIT, _credit(ada)).json()["data"]
    second = graphql(offline_token, STORE_CREDIT_CREDIT, _credit(ada, "2.50")).json()["data"]

    txn = second["storeCreditAccountCredit"]["storeCreditAccountTransaction"]
    assert first["storeCreditAccountCredit"]["userErrors"] == []
    assert txn["account"]["balance"] == {"amount": "7.50", "currencyCode": "USD"}
    listed = graphql(
        offline_token, STORE_CREDIT_TRANSACTIONS, {"id": f"gid://shopify/Customer/{ada}"}
    ).json()["data"]["customer"]["storeCreditAccounts"]["nodes"]
    assert [t["amount"]["amount"] for t in listed[0]["transactions"]["nodes"]] == ["2.50", "5.00"]


def test_store_credit_refuses_another_currency_and_an_unknown_customer(
    graphql: GQL, store: DevStore, offline_token: str
) -> None:
    ada = store.customers(SHOP)[0]["id"]
    wrong = graphql(offline_token, STORE_CREDIT_CREDIT, _credit(ada, currency="EUR")).json()
    nobody = graphql(offline_token, STORE_CREDIT_CREDIT, _credit(123)).json()
    zero = graphql(offline_token, STORE_CREDIT_CREDIT, _credit(ada, "0")).json()

    for answer, code in (
        (wrong, "UNSUPPORTED_CURRENCY"),
        (nobody, "ACCOUNT_NOT_FOUND"),
        (zero, "NEGATIVE_OR_ZERO_AMOUNT"),
    ):
        [error] = answer["data"]["storeCreditAccountCredit"]["userErrors"]
        assert error["code"] == code
    assert store.store_credit_accounts(SHOP, ada) == []


def test_free_shipping_code_is_stored_for_its_customer_and_found_by_code(
    graphql: GQL, store: DevStore, offline_token: str
) -> None:
    ada = store.customers(SHOP)[0]["id"]
    code_input = {
        "title": "Free shipping",
        "code": "KANTA-SHIP",
        "usageLimit": 1,
        "context": {"customers": {"add": [f"gid://shopify/Customer/{ada}"]}},
        "destination": {"all": True},
    }

    made = graphql(
        offline_token, FREE_SHIPPING_CODE_CREATE, {"freeShippingCodeDiscount": code_input}
    ).json()["data"]["discountCodeFreeShippingCreate"]
    again = graphql(
        offline_token, FREE_SHIPPING_CODE_CREATE, {"freeShippingCodeDiscount": code_input}
    ).json()["data"]["discountCodeFreeShippingCreate"]
    found = graphql(offline_token, DISCOUNT_BY_CODE, {"code": "kanta-ship"}).json()["data"]
    missing = graphql(offline_token, DISCOUNT_BY_CODE, {"code": "NOPE"}).json()["data"]

    assert made["userErrors"] == []
    assert again["userErrors"][0]["code"] == "TAKEN"
    assert found["codeDiscountNodeByCode"]["id"] == made["codeDiscountNode"]["id"]
    assert missing["codeDiscountNodeByCode"] is None
    [stored] = store.discounts(SHOP)
    assert stored["free_shipping"] is True
    assert stored["customer_ids"] == [ada]


def test_a_lost_response_ran_the_mutation(
    graphql: GQL, store: DevStore, offline_token: str
) -> None:
    ada = store.customers(SHOP)[0]["id"]
    store.graphql_fail_next(1, "lost_response")

    response = graphql(offline_token, STORE_CREDIT_CREDIT, _credit(ada))

    assert response.status_code == 502
    [account] = store.store_credit_accounts(SHOP, ada)
    assert account["balance"] == "5.00"
    assert store.graphql_calls[-1]["outcome"] == "lost_response"

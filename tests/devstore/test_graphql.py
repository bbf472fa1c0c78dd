"""Admin GraphQL answers: auth, userErrors, metafields, customer/shop queries, cost bucket."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from devstore_testkit import SHOP, Clock

from devstore import DevStore

GQL = Callable[..., httpx.Response]
CREATE_DISCOUNT = """
mutation CreateReward($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode {
      id
      codeDiscount { ... on DiscountCodeBasic { codes(first: 1) { nodes { code } } } }
    }
    userErrors { field code message }
  }
}"""
SET_METAFIELDS = """
mutation SetLoyalty($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id key namespace value type compareDigest }
    userErrors { field code message elementIndex }
  }
}"""
CUSTOMER = """
query Customer($id: ID!) {
  customer(id: $id) {
    id displayName defaultEmailAddress { emailAddress } numberOfOrders
    amountSpent { amount currencyCode }
    metafield(namespace: "$app:loyalty", key: "points") { value }
    tier: metafield(namespace: "$app:loyalty", key: "tier") { value }
  }
}"""


def _discount(code: str, title: str = "Loyalty reward – 500 pts") -> dict[str, object]:
    return {
        "basicCodeDiscount": {
            "title": title,
            "code": code,
            "startsAt": "2026-05-01T12:00:00Z",
            "customerGets": {
                "value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
                "items": {"all": True},
            },
            "context": {"customers": {"add": []}},
            "usageLimit": 1,
            "appliesOncePerCustomer": True,
        }
    }


def test_requests_without_a_live_token_get_401(graphql: GQL, store: DevStore) -> None:
    response = graphql("shpat_bogus", "{ shop { id } }")
    assert response.status_code == 401
    assert response.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    assert store.graphql_calls[-1]["outcome"] == "unauthorized"


def test_token_of_another_shop_is_refused(graphql: GQL, store: DevStore) -> None:
    store.add_shop("other-shop.myshopify.com")
    token = store.issue_access_token("other-shop.myshopify.com", expiring=True)["access_token"]
    assert graphql(token, "{ shop { id } }").status_code == 401
    assert graphql(token, "{ shop { id } }", shop="other-shop.myshopify.com").status_code == 200


def test_discount_create_then_duplicate_code_is_taken(graphql: GQL, offline_token: str) -> None:
    created = graphql(offline_token, CREATE_DISCOUNT, _discount("KANTA-ABC123")).json()
    result = created["data"]["discountCodeBasicCreate"]
    assert result["userErrors"] == []
    assert result["codeDiscountNode"]["id"].startswith("gid://shopify/DiscountCodeNode/")
    assert result["codeDiscountNode"]["codeDiscount"]["codes"]["nodes"] == [
        {"code": "KANTA-ABC123"}
    ]
    assert created["extensions"]["cost"]["requestedQueryCost"] == 10

    dup = graphql(offline_token, CREATE_DISCOUNT, _discount("kanta-abc123")).json()
    assert dup["data"]["discountCodeBasicCreate"] == {
        "codeDiscountNode": None,
        "userErrors": [
            {
                "field": ["basicCodeDiscount", "code"],
                "code": "TAKEN",
                "message": "Code must be unique. Please try a different code.",
            }
        ],
    }


def test_discount_create_validates_required_fields(graphql: GQL, offline_token: str) -> None:
    variables = _discount("", title="")
    del variables["basicCodeDiscount"]["customerGets"]  # type: ignore[attr-defined]
    errors = graphql(offline_token, CREATE_DISCOUNT, variables).json()["data"][
        "discountCodeBasicCreate"
    ]["userErrors"]
    assert [e["field"][-1] for e in errors] == ["title", "code", "customerGets"]


def test_metafields_set_resolves_app_namespace_and_reads_back(
    graphql: GQL, offline_token: str, store: DevStore
) -> None:
    customer = store.customers()[0]
    gid = f"gid://shopify/Customer/{customer['id']}"
    inputs = [
        {"ownerId": gid, "namespace": "$app:loyalty", "key": "points",
         "type": "number_integer", "value": "120"},
        {"ownerId": gid, "namespace": "$app:loyalty", "key": "tier",
         "type": "single_line_text_field", "value": "Silver"},
    ]  # fmt: skip
    body = graphql(offline_token, SET_METAFIELDS, {"metafields": inputs}).json()
    result = body["data"]["metafieldsSet"]
    assert result["userErrors"] == []
    assert {m["namespace"] for m in result["metafields"]} == {f"app--{store.app_id}--loyalty"}

    read = graphql(offline_token, CUSTOMER, {"id": gid}).json()["data"]["customer"]
    assert read["displayName"] == f"{customer['first_name']} {customer['last_name']}"
    assert read["defaultEmailAddress"] == {"emailAddress": customer["email"]}
    assert read["numberOfOrders"] == "0"
    assert read["amountSpent"] == {"amount": "0.00", "currencyCode": "USD"}
    assert read["metafield"]["value"] == "120"
    assert read["tier"]["value"] == "Silver"

    stale = dict(inputs[0], value="130", compareDigest="not-the-digest")
    errors = graphql(offline_token, SET_METAFIELDS, {"metafields": [stale]}).json()["data"][
        "metafieldsSet"
    ]["userErrors"]
    assert errors[0]["code"] == "STALE_OBJECT"
    digest = result["metafields"][0]["compareDigest"]
    fresh = dict(inputs[0], value="130", compareDigest=digest)
    ok = graphql(offline_token, SET_METAFIELDS, {"metafields": [fresh]}).json()
    assert ok["data"]["metafieldsSet"]["metafields"][0]["value"] == "130"


def test_metafields_set_limits_and_atomicity(
    graphql: GQL, offline_token: str, store: DevStore
) -> None:
    gid = f"gid://shopify/Customer/{store.customers()[0]['id']}"
    many = [
        {"ownerId": gid, "namespace": "$app:loyalty", "key": f"k{i:02d}",
         "type": "number_integer", "value": "1"}
        for i in range(26)
    ]  # fmt: skip
    body = graphql(offline_token, SET_METAFIELDS, {"metafields": many}).json()
    assert body["data"]["metafieldsSet"]["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"
    mixed = [many[0], dict(many[1], value="not a number")]
    body = graphql(offline_token, SET_METAFIELDS, {"metafields": mixed}).json()
    assert body["data"]["metafieldsSet"]["userErrors"][0]["elementIndex"] == 1
    assert store.find_metafield(SHOP, gid, f"app--{store.app_id}--loyalty", "k00") is None


def test_unknown_customer_and_shop_query(graphql: GQL, offline_token: str) -> None:
    missing = graphql(offline_token, CUSTOMER, {"id": "gid://shopify/Customer/1"}).json()
    assert missing["data"] == {"customer": None}
    shop = graphql(
        offline_token,
        "{ shop { id name myshopifyDomain currencyCode ianaTimezone plan { displayName } } }",
    ).json()["data"]["shop"]
    assert shop["myshopifyDomain"] == SHOP
    assert shop["currencyCode"] == "USD"
    assert shop["id"].startswith("gid://shopify/Shop/")


def test_bucket_drains_to_throttled_and_restores(
    graphql: GQL, offline_token: str, clock: Clock
) -> None:
    statuses = []
    for _ in range(200):
        body = graphql(offline_token, CREATE_DISCOUNT, _discount("X")).json()
        statuses.append(body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])
    assert statuses[0] == 1990
    assert statuses[-1] == 0
    throttled = graphql(offline_token, CREATE_DISCOUNT, _discount("Y"))
    assert throttled.status_code == 200
    assert throttled.json() == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 10,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 2000.0,
                    "currentlyAvailable": 0,
                    "restoreRate": 100.0,
                },
            }
        },
    }
    clock.advance(0.1)  # 10 points restored: exactly one mutation
    assert "data" in graphql(offline_token, CREATE_DISCOUNT, _discount("Z")).json()
    clock.advance(100)
    status = graphql(offline_token, "{ shop { id } }").json()["extensions"]["cost"]
    assert status["throttleStatus"]["currentlyAvailable"] == 1998


@pytest.mark.parametrize(
    ("kind", "status", "check"),
    [
        ("throttle", 200, lambda b: b["errors"][0]["extensions"]["code"] == "THROTTLED"),
        ("http500", 500, lambda b: "Internal error" in b["errors"]),
        ("user_error", 200,
         lambda b: b["data"]["discountCodeBasicCreate"]["userErrors"][0]["code"] != ""),
    ],
)  # fmt: skip
def test_forced_failures_then_recovery(
    graphql: GQL, offline_token: str, store: DevStore, kind: str, status: int, check: object
) -> None:
    store.graphql_fail_next(1, kind=kind)  # type: ignore[arg-type]
    failed = graphql(offline_token, CREATE_DISCOUNT, _discount("F1"))
    assert failed.status_code == status
    assert check(failed.json())  # type: ignore[operator]
    again = graphql(offline_token, CREATE_DISCOUNT, _discount("F1")).json()
    assert again["data"]["discountCodeBasicCreate"]["userErrors"] == []


def test_call_log_records_operation_variables_and_token(
    graphql: GQL, offline_token: str, store: DevStore
) -> None:
    graphql(offline_token, CREATE_DISCOUNT, _discount("LOG-1"))
    call = store.graphql_calls[-1]
    assert call["operation_name"] == "CreateReward"
    assert call["root_field"] == "discountCodeBasicCreate"
    assert call["variables"]["basicCodeDiscount"]["code"] == "LOG-1"
    assert call["access_token"] == offline_token
    assert call["outcome"] == "ok"


def test_unknown_field_is_a_graphql_error(graphql: GQL, offline_token: str) -> None:
    body = graphql(offline_token, "{ products(first: 1) { nodes { id } } }").json()
    assert body["errors"][0]["extensions"]["code"] == "undefinedField"

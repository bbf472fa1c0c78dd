"""Answers to the Admin GraphQL calls Kanta makes (reference §5), Shopify-shaped.

This is not a GraphQL engine. An operation is recognised by its first root field
(``metafieldsSet``, ``customer``, ``shop``, ``collections``; the reward calls
``discountCodeBasicCreate``, ``discountCodeFreeShippingCreate``, ``storeCreditAccountCredit``
and ``codeDiscountNodeByCode`` are answered by ``graphql_rewards``, ``metafieldsSet`` by
``graphql_metafields``); arguments are read from ``variables`` (or from string literals in the
query); the response always has the full documented shape, whatever the selection set asks for.
Root-field aliases and ``metafield(...)`` aliases inside ``customer`` are honoured.

Around that: authentication by ``X-Shopify-Access-Token`` (401 with Shopify's message), the
cost-based leaky bucket (``THROTTLED`` at HTTP 200 with ``actualQueryCost: null``), an
``extensions.cost`` block on every answer, forced failures for tests
(``DevStore.graphql_fail_next``) and a log of every call (``DevStore.graphql_calls``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from devstore import graphql_customizations as customizations
from devstore import graphql_rewards as rewards
from devstore.catalogue import COLLECTIONS
from devstore.gids import gid_id
from devstore.graphql_metafields import metafields_set, resolve_namespace
from devstore.store import DevStore, ThrottleStatus

__all__ = ["GraphQLResponse", "handle_graphql", "resolve_namespace"]

JSON = dict[str, Any]
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
MUTATION_COST = 10
QUERY_COSTS = {
    "customer": 2,
    "shop": 2,
    "codeDiscountNodeByCode": 1,
    "paymentCustomizations": 2,
    "collections": 12,
}
_COMMENT_RE = re.compile(r"#[^\n]*")
_HEADER_RE = re.compile(r"^\s*(query|mutation|subscription)\b\s*(\w+)?")
_ROOT_RE = re.compile(r"\{\s*(?:(\w+)\s*:\s*)?(\w+)")
_METAFIELD_RE = re.compile(r"(?:(\w+)\s*:\s*)?\bmetafield\s*\(([^)]*)\)")


@dataclass(frozen=True)
class GraphQLResponse:
    """HTTP status and JSON body of one ``graphql.json`` request."""

    status: int
    body: JSON


@dataclass(frozen=True)
class _Operation:
    kind: str
    name: str | None
    field: str
    response_key: str


def _parse(query: str) -> _Operation | None:
    text = _COMMENT_RE.sub("", query)
    header = _HEADER_RE.match(text)
    kind = header.group(1) if header else "query"
    name = header.group(2) if header else None
    root = _ROOT_RE.search(text)
    if root is None:
        return None
    alias, field = root.group(1), root.group(2)
    return _Operation(kind, name, field, alias or field)


def _argument(query: str, field: str, arg: str, variables: JSON) -> Any:
    """The value of ``field(arg: $var)`` from ``variables``, or of ``field(arg: "literal")``."""
    pattern = re.compile(rf"\b{field}\s*\([^)]*?\b{arg}\s*:\s*(\$\w+|\"(?:[^\"\\]|\\.)*\")", re.S)
    found = pattern.search(query)
    if found is None:
        return variables.get(arg)
    token = found.group(1)
    if token.startswith("$"):
        return variables.get(token[1:])
    return json.loads(token)


def _cost(requested: int, actual: int | None, status: ThrottleStatus) -> JSON:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": status.maximum_available,
                "currentlyAvailable": int(status.currently_available),
                "restoreRate": status.restore_rate,
            },
        }
    }


def _throttled(requested: int, status: ThrottleStatus) -> JSON:
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": _cost(requested, None, status),
    }


# ------------------------------------------------------------------------------ resolvers


def _customer(store: DevStore, shop: str, query: str, variables: JSON) -> JSON | None:
    gid = _argument(query, "customer", "id", variables)
    customer_id = gid_id(gid, "Customer")
    record = store.customer(customer_id, shop) if customer_id is not None else None
    if record is None or customer_id is None:
        return None
    count, spent = store.customer_stats(shop, customer_id)
    currency = store.shop_resource(shop)["currency"]
    result: JSON = {
        "id": f"gid://shopify/Customer/{customer_id}",
        "legacyResourceId": str(customer_id),
        "displayName": f"{record['first_name']} {record['last_name']}",
        "firstName": record["first_name"],
        "lastName": record["last_name"],
        "defaultEmailAddress": {"emailAddress": record["email"]},
        "defaultPhoneNumber": {"phoneNumber": record["phone"]} if record["phone"] else None,
        "numberOfOrders": str(count),  # UnsignedInt64 is serialised as a string
        "amountSpent": {"amount": spent, "currencyCode": currency},
        "metafield": None,
        "storeCreditAccounts": rewards.store_credit_accounts(store, shop, customer_id),
    }
    for alias, args in _METAFIELD_RE.findall(query):
        namespace = _argument(f"metafield({args})", "metafield", "namespace", variables)
        key = _argument(f"metafield({args})", "metafield", "key", variables)
        found = store.find_metafield(
            shop, result["id"], resolve_namespace(store, namespace), str(key)
        )
        result[alias or "metafield"] = (
            {
                "id": f"gid://shopify/Metafield/{found['id']}",
                "namespace": found["namespace"],
                "key": found["key"],
                "value": found["value"],
                "type": found["type"],
                "compareDigest": found["compare_digest"],
            }
            if found
            else None
        )
    return result


def _shop(store: DevStore, shop: str) -> JSON:
    resource = store.shop_resource(shop)
    plan = store.shop_plan(shop)
    return {
        "id": f"gid://shopify/Shop/{resource['id']}",
        "name": resource["name"],
        "email": resource["email"],
        "myshopifyDomain": resource["myshopify_domain"],
        "currencyCode": resource["currency"],
        "ianaTimezone": resource["iana_timezone"],
        "plan": {
            "displayName": plan["display_name"],
            "partnerDevelopment": plan["display_name"] == "Development",
            "shopifyPlus": plan["shopify_plus"],
        },
        "billingAddress": {"countryCodeV2": plan["country_code"]},
    }


def _collections(store: DevStore, shop: str, query: str, variables: JSON) -> JSON:
    """``collections(first:, after:)`` with each collection's ``products`` (one page of 250)."""
    by_title = {p["title"]: p["id"] for p in store.products(shop)}
    nodes = [
        {
            "id": f"gid://shopify/Collection/{store.shop_id(shop) + 900 + index}",
            "title": title,
            "products": {
                "nodes": [
                    {"id": f"gid://shopify/Product/{by_title[name]}"}
                    for name in products
                    if name in by_title
                ]
            },
        }
        for index, (title, products) in enumerate(COLLECTIONS)
    ]
    raw_first = _argument(query, "collections", "first", variables)
    first = raw_first if isinstance(raw_first, int) and 0 < raw_first <= 250 else 50
    after = _argument(query, "collections", "after", variables)
    start = int(after) if isinstance(after, str) and after.isdigit() else 0
    page = nodes[start : start + first]
    end = start + len(page)
    return {
        "pageInfo": {"hasNextPage": end < len(nodes), "endCursor": str(end) if page else None},
        "nodes": page,
    }


# ------------------------------------------------------------------------------ entry point


def handle_graphql(
    store: DevStore, shop_domain: str, access_token: str | None, body: Any
) -> GraphQLResponse:
    """Answer one ``POST /admin/api/{version}/graphql.json``."""
    query = body.get("query") if isinstance(body, dict) else None
    variables = body.get("variables") if isinstance(body, dict) else None
    variables = variables if isinstance(variables, dict) else {}
    operation = _parse(query) if isinstance(query, str) else None
    entry: JSON = {
        "at": store.now().isoformat(),
        "shop": shop_domain,
        "access_token": access_token,
        "operation_name": (body.get("operationName") if isinstance(body, dict) else None)
        or (operation.name if operation else None),
        "root_field": operation.field if operation else None,
        "variables": variables,
    }

    def answer(status: int, payload: JSON, outcome: str) -> GraphQLResponse:
        store.record_graphql_call({**entry, "status": status, "outcome": outcome})
        return GraphQLResponse(status, payload)

    if shop_domain not in store.shop_domains():
        return answer(404, {"errors": "Not Found"}, "unknown_shop")
    if not access_token or not store.token_is_live(shop_domain, access_token):
        return answer(401, {"errors": INVALID_TOKEN}, "unauthorized")
    if not isinstance(query, str) or operation is None:
        return answer(400, {"errors": {"query": "Required parameter missing or invalid"}}, "bad")

    assert isinstance(query, str)
    is_mutation = operation.kind == "mutation"
    requested = MUTATION_COST if is_mutation else QUERY_COSTS.get(operation.field, 1)
    forced = store.take_forced_failure()
    if forced == "http500":
        return answer(
            500,
            {
                "errors": "Internal error. Looks like something went wrong on our "
                "end.\nRequest ID: devstore-simulated"
            },
            "http500",
        )
    status = store.consume_query_cost(shop_domain, requested)
    if forced == "throttle":
        status = ThrottleStatus(
            False, status.maximum_available, status.currently_available, status.restore_rate
        )
    if not status.allowed:
        return answer(200, _throttled(requested, status), "throttled")

    forced_user_error = forced == "user_error"
    data: Any
    if is_mutation and operation.field == "discountCodeBasicCreate":
        raw = _argument(query, "discountCodeBasicCreate", "basicCodeDiscount", variables)
        data = rewards.discount_code_basic_create(store, shop_domain, raw, forced_user_error)
    elif is_mutation and operation.field == "discountCodeFreeShippingCreate":
        raw = _argument(
            query, "discountCodeFreeShippingCreate", "freeShippingCodeDiscount", variables
        )
        data = rewards.discount_code_free_shipping_create(
            store, shop_domain, raw, forced_user_error
        )
    elif is_mutation and operation.field == "storeCreditAccountCredit":
        owner = _argument(query, "storeCreditAccountCredit", "id", variables)
        credit = _argument(query, "storeCreditAccountCredit", "creditInput", variables)
        data = rewards.store_credit_account_credit(
            store, shop_domain, owner, credit, forced_user_error
        )
    elif not is_mutation and operation.field == "codeDiscountNodeByCode":
        code = _argument(query, "codeDiscountNodeByCode", "code", variables)
        data = rewards.code_discount_node_by_code(store, shop_domain, code)
    elif is_mutation and operation.field in (
        "paymentCustomizationCreate",
        "deliveryCustomizationCreate",
    ):
        kind = "payment" if operation.field.startswith("payment") else "delivery"
        arg = f"{kind}Customization"
        raw = _argument(query, operation.field, arg, variables)
        data = customizations.customization_create(store, shop_domain, kind, raw, forced_user_error)
    elif not is_mutation and operation.field in ("paymentCustomizations", "deliveryCustomizations"):
        # Both lists, whichever comes first in the query: answered together under their names.
        payload = {
            "paymentCustomizations": customizations.customizations(store, shop_domain, "payment"),
            "deliveryCustomizations": customizations.customizations(store, shop_domain, "delivery"),
        }
        outcome = "ok"
        return answer(
            200,
            {"data": payload, "extensions": _cost(requested, requested, status)},
            outcome,
        )
    elif is_mutation and operation.field == "metafieldsSet":
        raw = _argument(query, "metafieldsSet", "metafields", variables)
        data = metafields_set(store, shop_domain, raw, forced_user_error)
    elif not is_mutation and operation.field == "customer":
        data = _customer(store, shop_domain, query, variables)
    elif not is_mutation and operation.field == "shop":
        data = _shop(store, shop_domain)
    elif not is_mutation and operation.field == "collections":
        data = _collections(store, shop_domain, query, variables)
    else:
        root = "Mutation" if is_mutation else "QueryRoot"
        error = {
            "message": f"Field '{operation.field}' doesn't exist on type '{root}'",
            "path": [operation.kind, operation.field],
            "extensions": {
                "code": "undefinedField",
                "typeName": root,
                "fieldName": operation.field,
            },
        }
        return answer(
            200,
            {"errors": [error], "extensions": _cost(requested, None, status)},
            "undefined_field",
        )
    outcome = "user_errors" if isinstance(data, dict) and data.get("userErrors") else "ok"
    if forced == "lost_response":
        # The call ran; its answer never arrives (a gateway timeout, as the caller sees it).
        return answer(502, {"errors": "Bad gateway (simulated lost response)"}, "lost_response")
    return answer(
        200,
        {"data": {operation.response_key: data}, "extensions": _cost(requested, requested, status)},
        outcome,
    )

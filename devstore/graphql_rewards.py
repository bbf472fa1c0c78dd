"""Answers to the reward calls: ``discountCodeBasicCreate``, ``discountCodeFreeShippingCreate``,
``storeCreditAccountCredit``, ``codeDiscountNodeByCode``, and the ``storeCreditAccounts`` of the
``customer`` query.

Shapes follow the Admin GraphQL reference (``../shared/reference/platform-2026-12.md`` §1(d)):
a code discount's ``context`` names who may use it; store credit is per customer and currency,
the account created on the first credit; the amount is a decimal string with its currency.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from devstore.gids import gid_id
from devstore.store import DevStore

JSON = dict[str, Any]
SIMULATED = "Simulated failure (DevStore.graphql_fail_next)"


def _code_discount_payload(stored: JSON, typename: str) -> JSON:
    return {
        "codeDiscountNode": {
            "id": f"gid://shopify/DiscountCodeNode/{stored['id']}",
            "codeDiscount": {
                "__typename": typename,
                "title": stored["title"],
                "status": "ACTIVE",
                "startsAt": stored["starts_at"] or stored["created_at"],
                "endsAt": stored["ends_at"],
                "usageLimit": stored["usage_limit"],
                "appliesOncePerCustomer": stored["applies_once_per_customer"],
                "codes": {"nodes": [{"code": stored["code"]}]},
            },
        },
        "userErrors": [],
    }


def discount_code_basic_create(
    store: DevStore, shop: str, raw: Any, forced_user_error: bool
) -> JSON:
    def fail(errors: list[JSON]) -> JSON:
        return {"codeDiscountNode": None, "userErrors": errors}

    if forced_user_error:
        return fail(
            [
                {
                    "field": ["basicCodeDiscount"],
                    "code": "INTERNAL_ERROR",
                    "message": "Simulated failure (DevStore.graphql_fail_next)",
                }
            ]
        )
    data: JSON = raw if isinstance(raw, dict) else {}
    errors: list[JSON] = []
    for name, label in (("title", "Title"), ("code", "Code")):
        if not str(data.get(name) or "").strip():
            errors.append(
                {
                    "field": ["basicCodeDiscount", name],
                    "code": "BLANK",
                    "message": f"{label} can't be blank",
                }
            )
    gets = data.get("customerGets")
    amount: str | None = None
    percentage: str | None = None
    if not isinstance(gets, dict) or not isinstance(gets.get("value"), dict):
        errors.append(
            {
                "field": ["basicCodeDiscount", "customerGets"],
                "code": "BLANK",
                "message": "Customer gets can't be blank",
            }
        )
    else:
        value = gets["value"]
        try:
            if isinstance(value.get("discountAmount"), dict):
                amount = str(Decimal(str(value["discountAmount"]["amount"])))
                if Decimal(amount) <= 0:
                    raise InvalidOperation
            elif value.get("percentage") is not None:
                percentage = str(Decimal(str(value["percentage"])))
                if not 0 < Decimal(percentage) <= 1:
                    raise InvalidOperation
            else:
                raise InvalidOperation
        except (InvalidOperation, KeyError, TypeError, ValueError):
            errors.append(
                {
                    "field": ["basicCodeDiscount", "customerGets", "value"],
                    "code": "INVALID",
                    "message": "Value is invalid",
                }
            )
    if errors:
        return fail(errors)
    selection = data.get("context") or data.get("customerSelection") or {}
    added = (selection.get("customers") or {}).get("add") or []
    customer_ids = [cid for cid in (gid_id(g, "Customer") for g in added) if cid is not None]
    stored, errors = store.create_code_discount(
        shop,
        {
            "code": str(data["code"]).strip(),
            "title": str(data["title"]),
            "amount": amount,
            "percentage": percentage,
            "usage_limit": data.get("usageLimit"),
            "customer_ids": customer_ids,
            "starts_at": data.get("startsAt"),
            "ends_at": data.get("endsAt"),
            "applies_once_per_customer": bool(data.get("appliesOncePerCustomer")),
            "input": data,
        },
    )
    if stored is None:
        return fail(errors)
    return {
        "codeDiscountNode": {
            "id": f"gid://shopify/DiscountCodeNode/{stored['id']}",
            "codeDiscount": {
                "__typename": "DiscountCodeBasic",
                "title": stored["title"],
                "status": "ACTIVE",
                "startsAt": stored["starts_at"] or stored["created_at"],
                "endsAt": stored["ends_at"],
                "usageLimit": stored["usage_limit"],
                "appliesOncePerCustomer": stored["applies_once_per_customer"],
                "codes": {"nodes": [{"code": stored["code"]}]},
            },
        },
        "userErrors": [],
    }


def discount_code_free_shipping_create(
    store: DevStore, shop: str, raw: Any, forced_user_error: bool
) -> JSON:
    def fail(errors: list[JSON]) -> JSON:
        return {"codeDiscountNode": None, "userErrors": errors}

    if forced_user_error:
        error = {"field": ["freeShippingCodeDiscount"], "code": "INTERNAL_ERROR"}
        return fail([{**error, "message": SIMULATED}])
    data: JSON = raw if isinstance(raw, dict) else {}
    errors = [
        {
            "field": ["freeShippingCodeDiscount", name],
            "code": "BLANK",
            "message": f"{label} can't be blank",
        }
        for name, label in (("title", "Title"), ("code", "Code"))
        if not str(data.get(name) or "").strip()
    ]
    if errors:
        return fail(errors)
    selection = data.get("context") or data.get("customerSelection") or {}
    added = (selection.get("customers") or {}).get("add") or []
    stored, taken = store.create_code_discount(
        shop,
        {
            "code": str(data["code"]).strip(),
            "title": str(data["title"]),
            "amount": None,
            "percentage": None,
            "free_shipping": True,
            "usage_limit": data.get("usageLimit"),
            "customer_ids": [c for c in (gid_id(g, "Customer") for g in added) if c is not None],
            "starts_at": data.get("startsAt"),
            "ends_at": data.get("endsAt"),
            "applies_once_per_customer": bool(data.get("appliesOncePerCustomer")),
            "input": data,
        },
    )
    if stored is None:
        return fail([{**e, "field": ["freeShippingCodeDiscount", "code"]} for e in taken])
    return _code_discount_payload(stored, "DiscountCodeFreeShipping")


def store_credit_account_credit(
    store: DevStore, shop: str, owner: Any, credit: Any, forced_user_error: bool
) -> JSON:
    def fail(field: list[str], code: str, message: str) -> JSON:
        return {
            "storeCreditAccountTransaction": None,
            "userErrors": [{"field": field, "code": code, "message": message}],
        }

    if forced_user_error:
        return fail(["creditInput"], "INTERNAL_ERROR", SIMULATED)
    customer_id = gid_id(owner, "Customer")
    if customer_id is None or store.customer(customer_id, shop) is None:
        return fail(["id"], "ACCOUNT_NOT_FOUND", "Store credit account does not exist.")
    data: JSON = credit if isinstance(credit, dict) else {}
    amount_input = data.get("creditAmount") or {}
    try:
        amount = Decimal(str(amount_input.get("amount")))
        if not amount.is_finite() or amount <= 0:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        return fail(
            ["creditInput", "creditAmount", "amount"], "NEGATIVE_OR_ZERO_AMOUNT", "Invalid amount."
        )
    currency = amount_input.get("currencyCode")
    if currency != store.shop_resource(shop)["currency"]:
        return fail(
            ["creditInput", "creditAmount", "currencyCode"],
            "UNSUPPORTED_CURRENCY",
            "The currency is not supported by the shop.",
        )
    account, txn = store.credit_store_credit(shop, customer_id, amount, str(currency))
    return {
        "storeCreditAccountTransaction": {
            "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{txn['id']}",
            "amount": {"amount": txn["amount"], "currencyCode": account["currency"]},
            "createdAt": txn["created_at"],
            "account": {
                "id": f"gid://shopify/StoreCreditAccount/{account['id']}",
                "balance": {"amount": account["balance"], "currencyCode": account["currency"]},
            },
        },
        "userErrors": [],
    }


def code_discount_node_by_code(store: DevStore, shop: str, code: Any) -> JSON | None:
    found = store.discount_by_code(shop, str(code)) if isinstance(code, str) else None
    if found is None:
        return None
    return {"id": f"gid://shopify/DiscountCodeNode/{found['id']}"}


def store_credit_accounts(store: DevStore, shop: str, customer_id: int) -> JSON:
    return {
        "nodes": [
            {
                "id": f"gid://shopify/StoreCreditAccount/{a['id']}",
                "balance": {"amount": a["balance"], "currencyCode": a["currency"]},
                "transactions": {
                    "nodes": [
                        {
                            "__typename": "StoreCreditAccountCreditTransaction",
                            "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{t['id']}",
                            "amount": {"amount": t["amount"], "currencyCode": a["currency"]},
                            "createdAt": t["created_at"],
                        }
                        for t in reversed(a["transactions"])
                    ]
                },
            }
            for a in store.store_credit_accounts(shop, customer_id)
        ]
    }

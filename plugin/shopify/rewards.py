"""Rewards at Shopify: single-use discount codes, native store credit, and looking them up again.

Every call that creates something is sent once (``retry_server_errors=False``): a 5xx or a
timeout may come after Shopify created the reward, so it is reported as
``RewardOutcomeUnknown`` and the reconcile job looks the reward up instead of creating it twice.
A refusal Shopify states (``userErrors``, an unrunnable query, a refused token, a bucket that
stayed empty — none of which ran the mutation) is ``RewardRefused``: the points go back.

Mutations (``../shared/reference/platform-2026-12.md`` §1(d)): ``discountCodeBasicCreate`` and
``discountCodeFreeShippingCreate`` with ``usageLimit: 1``, ``appliesOncePerCustomer``, a
``context`` of this one customer and a short ``endsAt``; ``storeCreditAccountCredit`` on the
customer's id in the shop's currency (Shopify creates the account for that currency if needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..loyalty.rewards import CODE_LIFETIME, percentage_fraction
from .gateway import ShopifyError, ShopifyGateway, ShopifyUnavailable, ShopifyUserErrors

BASIC_CODE_CREATE = """
mutation KantaRewardCode($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

FREE_SHIPPING_CODE_CREATE = """
mutation KantaFreeShippingCode($freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

STORE_CREDIT_CREDIT = """
mutation KantaStoreCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction {
      id
      amount { amount currencyCode }
      account { id balance { amount currencyCode } }
    }
    userErrors { field code message }
  }
}
"""

DISCOUNT_BY_CODE = """
query KantaDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}
"""

STORE_CREDIT_TRANSACTIONS = """
query KantaStoreCreditTransactions($id: ID!) {
  customer(id: $id) {
    storeCreditAccounts(first: 10) {
      nodes {
        id
        balance { amount currencyCode }
        transactions(first: 50, reverse: true) {
          nodes {
            amount { amount currencyCode }
            createdAt
            ... on StoreCreditAccountCreditTransaction { id }
          }
        }
      }
    }
  }
}
"""


class RewardRefused(Exception):
    """Shopify did not issue the reward (and says so): give the points back."""


class RewardOutcomeUnknown(Exception):
    """No clear answer: the reward may exist. Reconcile by looking it up; never issue again."""


@dataclass(frozen=True)
class RewardRequest:
    reward_type: str
    title: str
    amount: Decimal
    currency: str
    code: str | None
    customer_gid: str
    starts_at: datetime


@dataclass(frozen=True)
class IssuedReward:
    shopify_discount_id: str | None = None
    store_credit_transaction_id: str | None = None


def _code_input(request: RewardRequest) -> dict[str, Any]:
    return {
        "title": f"Kanta reward: {request.title}"[:255],
        "code": request.code,
        "startsAt": request.starts_at.isoformat(),
        "endsAt": (request.starts_at + CODE_LIFETIME).isoformat(),
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "context": {"customers": {"add": [request.customer_gid]}},
    }


def _run_once(gateway: ShopifyGateway, shop: str, token: str, query: str, variables: Any) -> Any:
    try:
        return gateway.graphql(shop, token, query, variables, retry_server_errors=False)
    except ShopifyUserErrors as error:
        if any(e.get("code") == "TAKEN" for e in error.errors):
            # Our codes are unique: "taken" means an earlier attempt of ours created it.
            raise RewardOutcomeUnknown("the code exists already") from error
        raise RewardRefused(str(error)) from error
    except ShopifyUnavailable as error:
        raise RewardOutcomeUnknown(error.code) from error
    except ShopifyError as error:
        raise RewardRefused(error.code) from error


def issue_reward(
    gateway: ShopifyGateway, shop: str, token: str, request: RewardRequest
) -> IssuedReward:
    if request.reward_type == "store_credit":
        data = _run_once(
            gateway,
            shop,
            token,
            STORE_CREDIT_CREDIT,
            {
                "id": request.customer_gid,
                "creditInput": {
                    "creditAmount": {
                        "amount": str(request.amount),
                        "currencyCode": request.currency,
                    },
                    "notify": False,
                },
            },
        )
        txn = (data.get("storeCreditAccountCredit") or {}).get("storeCreditAccountTransaction")
        if not isinstance(txn, dict) or not txn.get("id"):
            raise RewardOutcomeUnknown("no transaction in the answer")
        return IssuedReward(store_credit_transaction_id=str(txn["id"]))

    code_input = _code_input(request)
    if request.reward_type == "free_shipping":
        code_input["destination"] = {"all": True}
        query, root, arg = (
            FREE_SHIPPING_CODE_CREATE,
            "discountCodeFreeShippingCreate",
            ("freeShippingCodeDiscount"),
        )
    else:
        if request.reward_type == "percentage":
            value: dict[str, Any] = {"percentage": float(percentage_fraction(request.amount))}
        else:
            value = {"discountAmount": {"amount": str(request.amount), "appliesOnEachItem": False}}
        code_input["customerGets"] = {"value": value, "items": {"all": True}}
        query, root, arg = BASIC_CODE_CREATE, "discountCodeBasicCreate", "basicCodeDiscount"
    data = _run_once(gateway, shop, token, query, {arg: code_input})
    node = (data.get(root) or {}).get("codeDiscountNode")
    if not isinstance(node, dict) or not node.get("id"):
        raise RewardOutcomeUnknown("no discount in the answer")
    return IssuedReward(shopify_discount_id=str(node["id"]))


def find_discount_by_code(gateway: ShopifyGateway, shop: str, token: str, code: str) -> str | None:
    """The discount's id if a code exists at Shopify, else None."""
    data = gateway.graphql(shop, token, DISCOUNT_BY_CODE, {"code": code})
    node = data.get("codeDiscountNodeByCode")
    return str(node["id"]) if isinstance(node, dict) and node.get("id") else None


@dataclass(frozen=True)
class StoreCreditTransaction:
    id: str
    amount: Decimal
    currency: str
    created_at: datetime


def store_credit_transactions(
    gateway: ShopifyGateway, shop: str, token: str, customer_gid: str
) -> list[StoreCreditTransaction]:
    """The customer's recent store-credit credits, newest first."""
    data = gateway.graphql(shop, token, STORE_CREDIT_TRANSACTIONS, {"id": customer_gid})
    customer = data.get("customer") or {}
    found: list[StoreCreditTransaction] = []
    for account in (customer.get("storeCreditAccounts") or {}).get("nodes") or []:
        for txn in (account.get("transactions") or {}).get("nodes") or []:
            if not txn.get("id"):
                continue  # a debit or expiry: only credits carry the fragment's id
            found.append(
                StoreCreditTransaction(
                    id=str(txn["id"]),
                    amount=Decimal(str(txn["amount"]["amount"])),
                    currency=str(txn["amount"]["currencyCode"]),
                    created_at=datetime.fromisoformat(str(txn["createdAt"]).replace("Z", "+00:00")),
                )
            )
    return found

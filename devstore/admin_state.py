"""What the Admin GraphQL API works on: the cost bucket, forced failures, the call log,
discounts, metafields and customer statistics."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from devstore.payloads import (
    money,
)
from devstore.state import JSON, FailureKind, StoreState, iso


@dataclass(frozen=True)
class ThrottleStatus:
    """``extensions.cost.throttleStatus`` of a GraphQL response, plus whether the call fits."""

    allowed: bool
    maximum_available: float
    currently_available: float
    restore_rate: float


class AdminApiState(StoreState):
    def graphql_fail_next(self, n: int = 1, kind: FailureKind = "throttle") -> None:
        """Force the next ``n`` GraphQL calls to fail: ``throttle`` (THROTTLED error),
        ``http500`` (Shopify's internal error, nothing done), ``user_error`` (mutation
        userErrors) or ``lost_response`` (the call runs, then the answer is lost: HTTP 502, as
        a gateway timeout looks to the caller)."""
        with self._lock:
            self._forced_failures.extend([kind] * n)

    def take_forced_failure(self) -> FailureKind | None:
        with self._lock:
            return self._forced_failures.pop(0) if self._forced_failures else None

    def record_graphql_call(self, entry: JSON) -> None:
        with self._lock:
            self._graphql_log.append(copy.deepcopy(entry))

    @property
    def graphql_calls(self) -> list[JSON]:
        """Every GraphQL call received: ``shop``, ``operation_name``, ``root_field``,
        ``variables``, ``access_token``, ``status``, ``outcome``, ``at``."""
        with self._lock:
            return copy.deepcopy(self._graphql_log)

    def consume_query_cost(self, shop_domain: str, cost: float) -> ThrottleStatus:
        """Leaky bucket per app+store (§5.4): refill at the restore rate, then take ``cost``
        if it fits; a throttled call takes nothing."""
        with self._lock:
            now = self.now()
            available, last = self._buckets.get(shop_domain, (self.graphql_bucket_size, now))
            elapsed = max(0.0, (now - last).total_seconds())
            available = min(
                self.graphql_bucket_size, available + elapsed * self.graphql_restore_rate
            )
            allowed = cost <= available
            if allowed:
                available -= cost
            self._buckets[shop_domain] = (available, now)
            return ThrottleStatus(
                allowed, self.graphql_bucket_size, available, self.graphql_restore_rate
            )

    def create_code_discount(
        self, shop_domain: str, fields: JSON
    ) -> tuple[JSON | None, list[JSON]]:
        """Store a basic code discount from a validated ``DiscountCodeBasicInput``; returns the
        stored discount or a ``TAKEN`` user error for a duplicate code."""
        with self._locked():
            shop = self._shop(shop_domain)
            code = fields["code"]
            if any(d["code"].lower() == code.lower() for d in shop["discounts"]):
                return None, [
                    {
                        "field": ["basicCodeDiscount", "code"],
                        "code": "TAKEN",
                        "message": "Code must be unique. Please try a different code.",
                    }
                ]
            discount = {"id": self._next_id(), "created_at": iso(self.now()), "used": 0, **fields}
            shop["discounts"].append(discount)
            self._save()
            return copy.deepcopy(discount), []

    def discount_by_code(self, shop_domain: str, code: str) -> JSON | None:
        with self._locked():
            for discount in self._shop(shop_domain)["discounts"]:
                if discount["code"].lower() == code.lower():
                    found: JSON = copy.deepcopy(discount)
                    return found
            return None

    def credit_store_credit(
        self, shop_domain: str, customer_id: int, amount: Decimal, currency: str
    ) -> tuple[JSON, JSON]:
        """Credit the customer's store-credit account in ``currency`` (created if missing);
        returns (account, transaction)."""
        with self._locked():
            shop = self._shop(shop_domain)
            self._require_customer(shop, customer_id)
            accounts = shop.setdefault("store_credit_accounts", [])
            account = next(
                (
                    a
                    for a in accounts
                    if a["customer_id"] == customer_id and a["currency"] == currency
                ),
                None,
            )
            if account is None:
                account = {
                    "id": self._next_id(),
                    "customer_id": customer_id,
                    "currency": currency,
                    "balance": "0.00",
                    "transactions": [],
                }
                accounts.append(account)
            txn = {"id": self._next_id(), "amount": money(amount), "created_at": iso(self.now())}
            account["transactions"].append(txn)
            account["balance"] = money(Decimal(account["balance"]) + amount)
            self._save()
            return copy.deepcopy(account), copy.deepcopy(txn)

    def store_credit_accounts(self, shop_domain: str | None, customer_id: int) -> list[JSON]:
        """The customer's store-credit accounts, one per currency, with their transactions."""
        with self._locked():
            accounts = self._shop(shop_domain).get("store_credit_accounts", [])
            return copy.deepcopy([a for a in accounts if a["customer_id"] == customer_id])

    def discounts(self, shop_domain: str | None = None) -> list[JSON]:
        with self._locked():
            return copy.deepcopy(self._shop(shop_domain)["discounts"])

    def owner_exists(self, shop_domain: str, owner_gid: str) -> bool:
        with self._locked():
            shop = self._shop(shop_domain)
            kind, _, raw_id = owner_gid.removeprefix("gid://shopify/").partition("/")
            if not raw_id.isdigit():
                return False
            if kind == "Customer":
                return any(c["id"] == int(raw_id) for c in shop["customers"])
            if kind == "Shop":
                return bool(shop["id"] == int(raw_id))
            return kind in {
                "Order",
                "Product",
                "DiscountNode",
                "PaymentCustomization",
                "DeliveryCustomization",
                "Company",
                "Location",
            }

    def find_metafield(
        self, shop_domain: str, owner_gid: str, namespace: str, key: str
    ) -> JSON | None:
        with self._locked():
            for mf in self._shop(shop_domain)["metafields"]:
                if (mf["owner_id"], mf["namespace"], mf["key"]) == (owner_gid, namespace, key):
                    found: JSON = copy.deepcopy(mf)
                    return found
            return None

    def write_metafields(self, shop_domain: str, inputs: list[JSON]) -> list[JSON]:
        """Upsert already-validated metafields atomically; returns the stored records."""
        with self._locked():
            shop = self._shop(shop_domain)
            moment = iso(self.now())
            stored = []
            for item in inputs:
                ident = (item["owner_id"], item["namespace"], item["key"])
                existing = next(
                    (
                        mf
                        for mf in shop["metafields"]
                        if (mf["owner_id"], mf["namespace"], mf["key"]) == ident
                    ),
                    None,
                )
                if existing is None:
                    existing = {"id": self._next_id(), "created_at": moment, **item}
                    shop["metafields"].append(existing)
                existing.update(item, updated_at=moment)
                existing["compare_digest"] = hashlib.sha256(
                    f"{existing['id']}:{existing['value']}:{moment}".encode()
                ).hexdigest()
                stored.append(copy.deepcopy(existing))
            self._save()
            return stored

    def customer_stats(self, shop_domain: str, customer_id: int) -> tuple[int, str]:
        """(number of orders, amount spent as a money string) for the ``customer`` query."""
        with self._locked():
            shop = self._shop(shop_domain)
            orders = [
                rec["order"]
                for rec in shop["orders"]
                if rec["order"]["customer"] and rec["order"]["customer"]["id"] == customer_id
            ]
            spent = sum(
                (Decimal(o["current_total_price"]) for o in orders if not o["cancelled_at"]),
                Decimal(0),
            )
            return len(orders), money(spent)

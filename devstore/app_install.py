"""The app's install state in a shop: install, scopes, uninstall, and the compliance requests
Shopify sends on the merchant's or customer's behalf."""

from __future__ import annotations

from devstore.payloads import (
    build_app_uninstalled,
    build_customers_data_request,
    build_customers_redact,
    build_shop_redact,
)
from devstore.state import JSON, StoreState, iso


class AppInstall(StoreState):
    def is_installed(self, shop_domain: str | None = None) -> bool:
        with self._locked():
            return bool(self._shop(shop_domain)["installed"])

    def scopes(self, shop_domain: str | None = None) -> str:
        with self._locked():
            scopes: str = self._shop(shop_domain)["scopes"]
            return scopes

    def install_app(self, shop_domain: str | None = None, *, scopes: str | None = None) -> None:
        """Shopify-managed install: mark installed. Kanta gets a token by token exchange on its
        next load (reference §1.8); nothing is sent to the app here."""
        with self._locked():
            shop = self._shop(shop_domain)
            shop["installed"] = True
            if scopes is not None:
                shop["scopes"] = scopes
            self._save()

    def update_scopes(self, scopes: str, shop_domain: str | None = None) -> None:
        """Merchant approved new scopes: queue ``app/scopes_update``."""
        with self._locked():
            shop = self._shop(shop_domain)
            previous = shop["scopes"].split(",")
            shop["scopes"] = scopes
            self._save()
            self._queue(
                "app/scopes_update",
                shop["domain"],
                {
                    "id": self.app_id,
                    "previous": previous,
                    "current": scopes.split(","),
                    "updated_at": iso(self.now()),
                },
            )

    def uninstall_app(self, shop_domain: str | None = None) -> None:
        """Uninstall: every token of the shop is revoked at once, ``app/uninstalled`` queued."""
        with self._locked():
            shop = self._shop(shop_domain)
            shop["installed"] = False
            for record in self._state["access_tokens"].values():
                if record["shop"] == shop["domain"]:
                    record["revoked"] = True
            for record in self._state["refresh_tokens"].values():
                if record["shop"] == shop["domain"]:
                    record["status"] = "revoked"
            self._save()
            self._queue(
                "app/uninstalled",
                shop["domain"],
                build_app_uninstalled(shop["id"], shop["domain"], currency=shop["currency"]),
            )

    def request_shop_redact(self, shop_domain: str | None = None) -> None:
        """Queue ``shop/redact`` (Shopify sends it 48 h after uninstall; here: on demand)."""
        with self._locked():
            shop = self._shop(shop_domain)
            self._queue(
                "shop/redact", shop["domain"], build_shop_redact(shop["id"], shop["domain"])
            )

    def _customer_orders(self, shop: JSON, customer_id: int) -> list[int]:
        return [
            rec["order"]["id"]
            for rec in shop["orders"]
            if rec["order"]["customer"] and rec["order"]["customer"]["id"] == customer_id
        ]

    def request_customer_redact(self, customer_id: int, shop_domain: str | None = None) -> None:
        """Queue ``customers/redact`` listing the customer's orders."""
        with self._locked():
            shop = self._shop(shop_domain)
            customer = self._require_customer(shop, customer_id)
            payload = build_customers_redact(
                shop["id"],
                shop["domain"],
                customer_id,
                customer["email"],
                self._customer_orders(shop, customer_id),
                phone=customer["phone"],
            )
            self._queue("customers/redact", shop["domain"], payload)

    def request_customer_data(self, customer_id: int, shop_domain: str | None = None) -> None:
        """Queue ``customers/data_request`` with a fresh data request id."""
        with self._locked():
            shop = self._shop(shop_domain)
            customer = self._require_customer(shop, customer_id)
            payload = build_customers_data_request(
                shop["id"],
                shop["domain"],
                customer_id,
                customer["email"],
                self._customer_orders(shop, customer_id),
                self._next_id(),
                phone=customer["phone"],
            )
            self._save()
            self._queue("customers/data_request", shop["domain"], payload)

"""Answers to the calls that turn an app's Functions on: ``paymentCustomizations`` and
``deliveryCustomizations`` (the lists), ``paymentCustomizationCreate`` and
``deliveryCustomizationCreate``. The app's deployed Functions are the two under ``extensions/``
(their ``shopify.extension.toml`` handles); any other ``functionHandle`` is not found."""

from __future__ import annotations

from typing import Any

from devstore.store import DevStore

JSON = dict[str, Any]
DEPLOYED = {"payment": "kanta-preferred-payment", "delivery": "kanta-preferred-delivery"}
TYPENAMES = {"payment": "PaymentCustomization", "delivery": "DeliveryCustomization"}


def customizations(store: DevStore, shop: str, kind: str) -> JSON:
    return {
        "nodes": [
            {
                "id": f"gid://shopify/{TYPENAMES[kind]}/{c['id']}",
                "title": c["title"],
                "enabled": c["enabled"],
                "functionId": c["function_handle"],
            }
            for c in store.customizations(shop, kind)
        ]
    }


def customization_create(store: DevStore, shop: str, kind: str, raw: Any, forced: bool) -> JSON:
    root = "paymentCustomization" if kind == "payment" else "deliveryCustomization"

    def fail(field: str, code: str, message: str) -> JSON:
        return {
            root: None,
            "userErrors": [{"field": [root, field], "code": code, "message": message}],
        }

    if forced:
        return fail("functionHandle", "INTERNAL_ERROR", "Simulated failure (graphql_fail_next)")
    data: JSON = raw if isinstance(raw, dict) else {}
    if data.get("functionHandle") != DEPLOYED[kind]:
        return fail("functionHandle", "FUNCTION_NOT_FOUND", "Function not found.")
    if not str(data.get("title") or "").strip():
        return fail("title", "BLANK", "Title can't be blank")
    stored = store.add_customization(
        shop, kind, str(data["functionHandle"]), str(data["title"]), bool(data.get("enabled"))
    )
    return {root: {"id": f"gid://shopify/{TYPENAMES[kind]}/{stored['id']}"}, "userErrors": []}

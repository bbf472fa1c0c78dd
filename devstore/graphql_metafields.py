"""Answers to ``metafieldsSet``: the inputs checked as Shopify checks them (at most 25, a
namespace and key of allowed characters, a value of its type), then stored on the owner.

``$app`` namespaces resolve to the calling app's reserved one (``resolve_namespace``), which the
``customer`` query and the checkout's Function input read back.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from devstore.store import DevStore

JSON = dict[str, Any]
MAX_METAFIELDS = 25
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{2,64}$")


def resolve_namespace(store: DevStore, namespace: str | None) -> str:
    """``$app:suffix`` → ``app--<app id>--suffix``; no namespace → the app-reserved one."""
    if namespace is None or namespace == "$app":
        return f"app--{store.app_id}"
    if namespace.startswith("$app:"):
        return f"app--{store.app_id}--{namespace.removeprefix('$app:')}"
    return namespace


def _value_problem(kind: str, value: str) -> str | None:
    try:
        if kind == "number_integer":
            int(value)
        elif kind == "number_decimal":
            Decimal(value)
        elif kind == "boolean" and value not in {"true", "false"}:
            return "Value must be true or false."
        elif kind == "json":
            json.loads(value)
    except (ValueError, InvalidOperation):
        return f"Value must be a valid {kind}."
    return None


def metafields_set(store: DevStore, shop: str, raw: Any, forced_user_error: bool) -> JSON:
    def fail(errors: list[JSON]) -> JSON:
        return {"metafields": [], "userErrors": errors}

    if forced_user_error:
        return fail(
            [
                {
                    "field": ["metafields"],
                    "code": "INTERNAL_ERROR",
                    "elementIndex": None,
                    "message": "Simulated failure (DevStore.graphql_fail_next)",
                }
            ]
        )
    inputs: list[Any] = raw if isinstance(raw, list) else []
    if len(inputs) > MAX_METAFIELDS:
        return fail(
            [
                {
                    "field": ["metafields"],
                    "code": "LESS_THAN_OR_EQUAL_TO",
                    "elementIndex": None,
                    "message": f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS}.",
                }
            ]
        )
    errors: list[JSON] = []
    valid: list[JSON] = []

    def err(index: int, name: str, code: str, message: str) -> None:
        errors.append(
            {
                "field": ["metafields", str(index), name],
                "code": code,
                "elementIndex": index,
                "message": message,
            }
        )

    for index, item in enumerate(inputs):
        entry: JSON = item if isinstance(item, dict) else {}
        owner, key, kind, value = (entry.get(k) for k in ("ownerId", "key", "type", "value"))
        namespace = resolve_namespace(store, entry.get("namespace"))
        if not owner or not store.owner_exists(shop, str(owner)):
            err(index, "ownerId", "INVALID", "Owner does not exist.")
            continue
        if not isinstance(key, str) or not _KEY_RE.match(key):
            err(index, "key", "INVALID", "Key must be 2-64 characters: letters, digits, - or _.")
            continue
        if not kind:
            err(index, "type", "BLANK", "Type can't be blank.")
            continue
        if not isinstance(value, str):
            err(index, "value", "INVALID_VALUE", "Value must be a string.")
            continue
        problem = _value_problem(str(kind), value)
        if problem:
            err(index, "value", "INVALID_VALUE", problem)
            continue
        current = store.find_metafield(shop, str(owner), namespace, key)
        if "compareDigest" in entry:
            expected = entry["compareDigest"]
            actual = current["compare_digest"] if current else None
            if expected != actual:
                err(
                    index,
                    "compareDigest",
                    "STALE_OBJECT",
                    "The resource has been updated since it was loaded. Try again with an "
                    "updated `compareDigest` value.",
                )
                continue
        valid.append(
            {
                "owner_id": str(owner),
                "namespace": namespace,
                "key": key,
                "type": str(kind),
                "value": value,
            }
        )
    if errors:
        return fail(errors)  # atomic: one bad input and nothing is written
    stored = store.write_metafields(shop, valid)
    return {
        "metafields": [
            {
                "id": f"gid://shopify/Metafield/{mf['id']}",
                "key": mf["key"],
                "namespace": mf["namespace"],
                "value": mf["value"],
                "type": mf["type"],
                "ownerType": mf["owner_id"].removeprefix("gid://shopify/").split("/")[0].upper(),
                "compareDigest": mf["compare_digest"],
                "createdAt": mf["created_at"],
                "updatedAt": mf["updated_at"],
            }
            for mf in stored
        ],
        "userErrors": [],
    }

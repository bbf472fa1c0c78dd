"""The demo checkout's payment and delivery lists, as Shopify's Functions would leave them.

Shopify runs an app's Payment and Delivery Customization Functions on each checkout: the input is
what the Function's input query asks for (the options on offer, the buyer's app metafield), the
output a list of operations (move, rename, hide), which Shopify applies before the buyer sees
the lists; the first option of each is selected. The devstore does the same with the app's real
Function code, run by Node (``extensions/run-function.mjs payment|delivery``: Function input JSON
on stdin, ``{"operations": [...]}`` on stdout, the contract of that script).

Like Shopify, it drops what a Function may not do, silently for the buyer (the page lists the
dropped operations): moving or renaming a wallet (only hiding one is allowed), and any operation
on a local delivery or local pickup option ("You can't modify local delivery and local pickup
options with delivery customizations", shopify.dev's Delivery Customization Function API).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from devstore.catalogue import DeliveryOption, PaymentMethod

JSON = dict[str, Any]
# Delivery method types no delivery customization may touch (local delivery, local pickup).
UNMODIFIABLE_DELIVERY_TYPES = frozenset({"LOCAL", "PICK_UP"})
RUNNER = Path(
    os.environ.get(
        "DEVSTORE_FUNCTION_RUNNER",
        Path(__file__).resolve().parent.parent / "extensions" / "run-function.mjs",
    )
)


@dataclass(frozen=True)
class ShownPayment:
    id: str
    name: str
    wallet: bool = False


@dataclass(frozen=True)
class ShownDelivery:
    handle: str
    title: str
    code: str
    price: str
    method_type: str


@dataclass
class CheckoutLists:
    """The lists as shown, and what the Functions did (for the page to say so)."""

    payments: list[ShownPayment]
    deliveries: list[ShownDelivery]
    operations: list[JSON] = field(default_factory=list)
    dropped: list[JSON] = field(default_factory=list)  # what Shopify would not apply
    problems: list[str] = field(default_factory=list)


def payment_input(methods: tuple[PaymentMethod, ...], customer: JSON | None) -> JSON:
    return {
        "paymentMethods": [
            {"id": f"gid://shopify/PaymentCustomizationPaymentMethod/{i}", "name": m.name}
            for i, m in enumerate(methods)
        ],
        "cart": {"buyerIdentity": {"customer": customer}},
    }


def delivery_input(
    options: tuple[DeliveryOption, ...], currency: str, customer: JSON | None
) -> JSON:
    return {
        "cart": {
            "buyerIdentity": {"customer": customer},
            "deliveryGroups": [
                {
                    "id": "gid://shopify/CartDeliveryGroup/1",
                    "deliveryOptions": [
                        {
                            "handle": f"devstore-{o.code.lower()}",
                            "title": o.title,
                            "code": o.code,
                            "cost": {"amount": str(o.price), "currencyCode": currency},
                            "deliveryMethodType": o.method_type,
                        }
                        for o in options
                    ],
                }
            ],
        }
    }


def buyer(customer_id: int | None, metafield_value: str | None) -> JSON | None:
    """``cart.buyerIdentity.customer`` as the input query reads it (None for a guest)."""
    if customer_id is None:
        return None
    return {
        "id": f"gid://shopify/Customer/{customer_id}",
        "metafield": None if metafield_value is None else {"value": metafield_value},
    }


def run_function(kind: str, function_input: JSON, runner: Path = RUNNER) -> list[JSON]:
    """The operations the app's Function returns for ``function_input``. Raises RuntimeError
    when it cannot run (no Node, no script, a failure): checkout then shows the lists as they
    are, as Shopify does when a Function fails."""
    node = shutil.which("node")
    if node is None or not runner.exists():
        raise RuntimeError(f"cannot run the {kind} Function: node or {runner.name} is missing")
    done = subprocess.run(
        [node, str(runner), kind],
        input=json.dumps(function_input),
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {kind} Function failed: {done.stderr.strip()[:200]}")
    output = json.loads(done.stdout)
    operations = output.get("operations") if isinstance(output, dict) else None
    if not isinstance(operations, list):
        raise RuntimeError(f"the {kind} Function answered no operations list")
    return [op for op in operations if isinstance(op, dict)]


def _move(items: list[Any], position: int, index: int) -> None:
    item = items.pop(position)
    items.insert(max(0, min(index, len(items))), item)


def apply_payment_operations(shown: list[ShownPayment], operations: list[JSON]) -> list[JSON]:
    """Apply ``operations`` as Shopify does; returns those it would drop (a wallet moved or
    renamed)."""
    dropped: list[JSON] = []
    for op in operations:
        if "paymentMethodMove" in op:
            move = op["paymentMethodMove"]
            at = next((i for i, m in enumerate(shown) if m.id == move.get("paymentMethodId")), None)
            if at is not None and shown[at].wallet:
                dropped.append(op)
            elif at is not None:
                _move(shown, at, int(move.get("index", 0)))
        elif "paymentMethodRename" in op:
            rename = op["paymentMethodRename"]
            for i, m in enumerate(shown):
                if m.id == rename.get("paymentMethodId"):
                    if m.wallet:
                        dropped.append(op)
                    else:
                        shown[i] = replace(m, name=str(rename.get("name", m.name)))
        elif "paymentMethodHide" in op:
            hidden = op["paymentMethodHide"].get("paymentMethodId")
            shown[:] = [m for m in shown if m.id != hidden]
    return dropped


def apply_delivery_operations(shown: list[ShownDelivery], operations: list[JSON]) -> list[JSON]:
    """Apply ``operations`` as Shopify does; returns those it would drop (any operation on a
    local delivery or local pickup option)."""
    dropped: list[JSON] = []
    for op in operations:
        name = next(iter(op), "")
        handle = op[name].get("deliveryOptionHandle") if isinstance(op.get(name), dict) else None
        target = next((o for o in shown if o.handle == handle), None)
        if target is not None and target.method_type in UNMODIFIABLE_DELIVERY_TYPES:
            dropped.append(op)
        elif "deliveryOptionMove" in op:
            at = next((i for i, o in enumerate(shown) if o.handle == handle), None)
            if at is not None:
                _move(shown, at, int(op["deliveryOptionMove"].get("index", 0)))
        elif "deliveryOptionRename" in op:
            rename = op["deliveryOptionRename"]
            for i, o in enumerate(shown):
                if o.handle == handle:
                    shown[i] = replace(o, title=str(rename.get("title", o.title)))
        elif "deliveryOptionHide" in op:
            shown[:] = [o for o in shown if o.handle != handle]
    return dropped


def checkout_lists(
    methods: tuple[PaymentMethod, ...],
    options: tuple[DeliveryOption, ...],
    currency: str,
    customer: JSON | None,
    runner: Path = RUNNER,
) -> CheckoutLists:
    pay_in = payment_input(methods, customer)
    ship_in = delivery_input(options, currency, customer)
    lists = CheckoutLists(
        payments=[
            ShownPayment(entry["id"], entry["name"], method.wallet)
            for entry, method in zip(pay_in["paymentMethods"], methods, strict=True)
        ],
        deliveries=[
            ShownDelivery(
                o["handle"], o["title"], o["code"], o["cost"]["amount"], o["deliveryMethodType"]
            )
            for o in ship_in["cart"]["deliveryGroups"][0]["deliveryOptions"]
        ],
    )
    for kind, function_input in (("payment", pay_in), ("delivery", ship_in)):
        try:
            operations = run_function(kind, function_input, runner)
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as error:
            lists.problems.append(str(error))
            continue
        lists.operations.extend(operations)
        if kind == "payment":
            lists.dropped += apply_payment_operations(lists.payments, operations)
        else:
            lists.dropped += apply_delivery_operations(lists.deliveries, operations)
    return lists

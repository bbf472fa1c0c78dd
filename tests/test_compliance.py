"""Uninstall and the three mandatory compliance topics, told as worked examples.

Ann and Bo shop at shop one; Cy shops at shop two. Ann joined the program (welcome bonus),
bought tea (an award), chose a payment method and redeemed a reward. Each topic then does
exactly its part and nothing more, and a redelivery changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devstore.payloads import (
    LineSpec,
    build_app_uninstalled,
    build_customer,
    build_customers_data_request,
    build_customers_redact,
    build_order,
    build_refund,
    build_shop_redact,
)
from devstore.signing import shopify_timestamp
from plugin import ledger
from plugin.loyalty.orders import CustomerFacts
from plugin.models import (
    Base,
    Customer,
    CustomerPreference,
    DataExport,
    LedgerEntry,
    Order,
    Redemption,
    Shop,
)
from tests.conftest import OTHER_SHOP, SHOP, Clock, install_shop, post_webhook
from tests.test_webhooks import row_counts

ANN, BO, CY = 7_200_000_000_000_000_001, 7_200_000_000_000_000_002, 7_200_000_000_000_000_003
SHOP_ID, OTHER_SHOP_ID = 7_400_000_000_000_000_001, 7_400_000_000_000_000_002
REQUEST_ID = 7_500_000_000_000_000_001
_next_order = iter(range(7_100_000_000_000_000_001, 7_100_000_000_000_001_000))


# --- the story's setting ---------------------------------------------------------------------


@contextmanager
def unit_of_work(app: Flask) -> Iterator[Session]:
    with app.extensions["kanta"].db.transaction() as session:
        yield session


def shop_row(session: Session, domain: str = SHOP) -> Shop:
    return session.scalars(select(Shop).where(Shop.domain == domain)).one()


def customer_row(session: Session, shopify_id: int, domain: str = SHOP) -> Customer:
    return session.scalars(
        select(Customer)
        .join(Shop, Shop.id == Customer.shop_id)
        .where(Shop.domain == domain, Customer.shopify_customer_id == shopify_id)
    ).one()


def buys(client: FlaskClient, customer: int, email: str, price: str, shop: str = SHOP) -> int:
    order_id = next(_next_order)
    payload = build_order(
        order_id=order_id,
        shop_domain=shop,
        customer=build_customer(
            customer, email=email, first_name=email.split("@")[0].title(), last_name="Lee"
        ),
        lines=[LineSpec("Tea", Decimal(price))],
        payment_gateway="Cash on Delivery (COD)",
        shipping_title="Express",
    )
    assert post_webhook(client, "orders/paid", payload, shop=shop).status_code == 200
    return order_id


def joins(app: Flask, customer: int, email: str, domain: str = SHOP) -> None:
    """Ann joins from the storefront: consent, welcome bonus, a payment preference."""
    k = app.extensions["kanta"]
    with unit_of_work(app) as session:
        shop = shop_row(session, domain)
        facts = CustomerFacts(customer, email, "Ann", "Lee")
        row = ledger.join_program(session, shop, facts, True, k.now())
        session.add(
            CustomerPreference(
                shop_id=shop.id,
                customer_id=row.id,
                kind="payment",
                source="chosen",
                value="Cash on Delivery (COD)",
            )
        )
        session.add(
            Redemption(
                shop_id=shop.id,
                customer_id=row.id,
                idempotency_key=f"redeem:{customer}",
                points_cost=10,
                status="issued",
                reward_type="fixed_amount",
                amount=Decimal("1.00"),
                currency="USD",
                discount_code="KANTA-ANN-10",
                details={"email": email},
            )
        )


@pytest.fixture
def story(app: Flask, client: FlaskClient, shop: int) -> dict[str, int]:
    install_shop(app, OTHER_SHOP)
    joins(app, ANN, "ann@example.com")
    ann_order = buys(client, ANN, "ann@example.com", "40.00")
    bo_order = buys(client, BO, "bo@example.com", "25.00")
    buys(client, CY, "cy@example.com", "30.00", shop=OTHER_SHOP)
    return {"ann_order": ann_order, "bo_order": bo_order}


def rows_of(app: Flask, domain: str) -> dict[str, int]:
    """Rows that belong to one shop, per table (its own ``shops`` row included)."""
    with app.extensions["kanta"].db.read() as session:
        shop_id = session.scalar(select(Shop.id).where(Shop.domain == domain))
        counts: dict[str, int] = {}
        for table in Base.metadata.sorted_tables:
            column = table.c.id if table.name == "shops" else table.c.shop_id
            counts[table.name] = session.execute(
                select(func.count()).select_from(table).where(column == shop_id)
            ).scalar_one()
    return counts


def snapshot(app: Flask, shopify_id: int, domain: str = SHOP) -> dict[str, Any]:
    """Everything held on one customer, for comparing before/after."""
    with app.extensions["kanta"].db.read() as session:
        row = customer_row(session, shopify_id, domain)
        entries = session.execute(
            select(LedgerEntry.kind, LedgerEntry.points, LedgerEntry.details)
            .where(LedgerEntry.customer_id == row.id)
            .order_by(LedgerEntry.id)
        ).all()
        orders = session.execute(
            select(Order.shopify_order_id, Order.payment_gateway).where(Order.customer_id == row.id)
        ).all()
        return {
            "profile": (row.email, row.first_name, row.last_name, row.points_balance),
            "entries": [tuple(e) for e in entries],
            "orders": [tuple(o) for o in orders],
        }


def ledger_totals(app: Flask, domain: str = SHOP) -> tuple[int, int, int]:
    """(entries, sum of points, sum of tier points) of the shop: what redaction must keep."""
    with app.extensions["kanta"].db.read() as session:
        count, points, tier = session.execute(
            select(
                func.count(LedgerEntry.id),
                func.coalesce(func.sum(LedgerEntry.points), 0),
                func.coalesce(func.sum(LedgerEntry.tier_points), 0),
            )
            .join(Shop, Shop.id == LedgerEntry.shop_id)
            .where(Shop.domain == domain)
        ).one()
    return int(count), int(points), int(tier)


def exports(app: Flask, domain: str = SHOP) -> list[DataExport]:
    with app.extensions["kanta"].db.read() as session:
        return list(
            session.scalars(
                select(DataExport)
                .join(Shop, Shop.id == DataExport.shop_id)
                .where(Shop.domain == domain)
                .order_by(DataExport.id)
            )
        )


def redact_ann(**overrides: Any) -> dict[str, Any]:
    payload = build_customers_redact(SHOP_ID, SHOP, ANN, "ann@example.com", [])
    payload["customer"].update(overrides)
    return payload


def data_request(customer: int = ANN, email: str = "ann@example.com") -> dict[str, Any]:
    return build_customers_data_request(SHOP_ID, SHOP, customer, email, [], REQUEST_ID)


# --- app/uninstalled -------------------------------------------------------------------------


def test_uninstall_drops_the_tokens_and_keeps_the_program_and_members(
    app: Flask, client: FlaskClient, story: dict[str, int], clock: Clock
) -> None:
    before = rows_of(app, SHOP)
    with app.extensions["kanta"].db.read() as session:
        program = shop_row(session).program

    response = post_webhook(client, "app/uninstalled", build_app_uninstalled(SHOP_ID, SHOP))

    assert response.status_code == 200
    with app.extensions["kanta"].db.read() as session:
        shop = shop_row(session)
        assert shop.uninstalled_at == clock.now
        assert not shop.is_installed
        assert shop.access_token_enc is None
        assert shop.access_token_expires_at is None
        assert shop.refresh_token_enc is None
        assert shop.refresh_token_expires_at is None
        assert shop.program == program
    assert rows_of(app, SHOP) == {**before, "webhook_receipts": before["webhook_receipts"] + 1}
    assert snapshot(app, ANN)["profile"] == ("ann@example.com", "Ann", "Lee", 140)


def test_uninstall_delivered_again_changes_nothing(
    app: Flask, client: FlaskClient, story: dict[str, int], clock: Clock
) -> None:
    body = build_app_uninstalled(SHOP_ID, SHOP)
    post_webhook(client, "app/uninstalled", body, webhook_id="u-1")
    uninstalled_at = clock.now
    before = row_counts(app)
    clock.advance(minutes=5)

    same = post_webhook(client, "app/uninstalled", body, webhook_id="u-1")
    assert (same.status_code, row_counts(app)) == (200, before)
    other_subscription = post_webhook(client, "app/uninstalled", body, webhook_id="u-2")
    assert other_subscription.status_code == 200
    with app.extensions["kanta"].db.read() as session:
        assert shop_row(session).uninstalled_at == uninstalled_at


def test_reinstalling_brings_the_program_and_members_back(
    app: Flask, client: FlaskClient, story: dict[str, int], clock: Clock
) -> None:
    from plugin.install import install_custom_app

    with app.extensions["kanta"].db.read() as session:
        program = shop_row(session).program
    ann_before = snapshot(app, ANN)
    post_webhook(client, "app/uninstalled", build_app_uninstalled(SHOP_ID, SHOP))
    clock.advance(hours=1)

    install_custom_app(app.extensions["kanta"], SHOP, "shpat_new_token", "read_orders")

    with app.extensions["kanta"].db.read() as session:
        shop = shop_row(session)
        assert shop.is_installed
        assert shop.access_token_enc is not None
        assert shop.program == program
    assert snapshot(app, ANN) == ann_before
    buys(client, ANN, "ann@example.com", "10.00")
    assert snapshot(app, ANN)["profile"][3] == 150


def test_a_retried_uninstall_from_before_a_reinstall_does_not_undo_it(
    app: Flask, client: FlaskClient, story: dict[str, int], clock: Clock
) -> None:
    from plugin.install import install_custom_app

    uninstalled = clock.now
    post_webhook(client, "app/uninstalled", build_app_uninstalled(SHOP_ID, SHOP))
    clock.advance(hours=1)
    install_custom_app(app.extensions["kanta"], SHOP, "shpat_new_token", "read_orders")
    clock.advance(hours=1)

    # A retry of a failed delivery of that same uninstall (Shopify resends the original).
    retried = post_webhook(
        client,
        "app/uninstalled",
        build_app_uninstalled(SHOP_ID, SHOP),
        headers={"X-Shopify-Triggered-At": shopify_timestamp(uninstalled)},
    )

    assert retried.status_code == 200
    with app.extensions["kanta"].db.read() as session:
        assert shop_row(session).is_installed


def test_an_uninstall_triggered_before_the_install_is_ignored(
    app: Flask, client: FlaskClient, story: dict[str, int], clock: Clock
) -> None:
    """The guard itself, on a first install (installed_at is set then)."""
    response = post_webhook(
        client,
        "app/uninstalled",
        build_app_uninstalled(SHOP_ID, SHOP),
        headers={"X-Shopify-Triggered-At": shopify_timestamp(clock.now - timedelta(days=1))},
    )

    assert response.status_code == 200
    with app.extensions["kanta"].db.read() as session:
        shop = shop_row(session)
        assert shop.is_installed
        assert shop.access_token_enc is not None


# --- shop/redact -----------------------------------------------------------------------------


def test_shop_redact_deletes_every_row_of_the_shop_and_nothing_else(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    post_webhook(client, "customers/data_request", data_request())
    post_webhook(client, "app/uninstalled", build_app_uninstalled(SHOP_ID, SHOP))
    assert all(rows_of(app, SHOP)[t] > 0 for t in ("customers", "orders", "ledger_entries"))
    other_before = rows_of(app, OTHER_SHOP)
    cy_before = snapshot(app, CY, OTHER_SHOP)

    response = post_webhook(client, "shop/redact", build_shop_redact(SHOP_ID, SHOP))

    assert response.status_code == 200
    assert rows_of(app, SHOP) == dict.fromkeys(other_before, 0)
    assert rows_of(app, OTHER_SHOP) == other_before
    assert snapshot(app, CY, OTHER_SHOP) == cy_before
    assert row_counts(app) == other_before


def test_shop_redact_delivered_again_is_a_200_and_changes_nothing(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    body = build_shop_redact(SHOP_ID, SHOP)
    post_webhook(client, "app/uninstalled", build_app_uninstalled(SHOP_ID, SHOP))
    post_webhook(client, "shop/redact", body, webhook_id="r-1")
    assert rows_of(app, SHOP)["customers"] == 0
    before = row_counts(app)

    same = post_webhook(client, "shop/redact", body, webhook_id="r-1")
    other = post_webhook(client, "shop/redact", body, webhook_id="r-2")

    assert (same.status_code, other.status_code) == (200, 200)
    assert row_counts(app) == before


# --- customers/redact ------------------------------------------------------------------------


def test_customer_redact_erases_ann_and_keeps_her_points_as_anonymous_totals(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    post_webhook(client, "customers/data_request", data_request())
    totals = ledger_totals(app)
    bo_before = snapshot(app, BO)
    other_shop_before = rows_of(app, OTHER_SHOP)
    with app.extensions["kanta"].db.read() as session:
        ann_pk = customer_row(session, ANN).id

    response = post_webhook(client, "customers/redact", redact_ann())

    assert response.status_code == 200
    with app.extensions["kanta"].db.read() as session:
        ann = session.get(Customer, ann_pk)
        assert ann is not None
        assert (ann.shopify_customer_id, ann.email, ann.first_name, ann.last_name) == (
            None,
            None,
            None,
            None,
        )
        assert (ann.marketing_consent, ann.consent_updated_at) == (None, None)
        assert ann.redacted_at is not None
        assert ann.points_balance == 140  # the anonymous total stays
        preferences = session.scalars(
            select(CustomerPreference).where(CustomerPreference.customer_id == ann_pk)
        ).all()
        assert preferences == []
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.customer_id == ann_pk)
        ).all()
        assert len(entries) == 2
        assert all(e.details == {} and e.reason is None and e.actor is None for e in entries)
        redemption = session.scalars(
            select(Redemption).where(Redemption.customer_id == ann_pk)
        ).one()
        assert (redemption.discount_code, redemption.details) == (None, {})
        order = session.scalars(
            select(Order).where(Order.shopify_order_id == story["ann_order"])
        ).one()
        assert (order.customer_id, order.payment_gateway, order.delivery_title) == (
            None,
            None,
            None,
        )
    assert exports(app) == []
    assert ledger_totals(app) == totals
    assert snapshot(app, BO) == bo_before
    assert rows_of(app, OTHER_SHOP) == other_shop_before


def test_customer_redact_delivered_again_changes_nothing(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    post_webhook(client, "customers/redact", redact_ann(), webhook_id="c-1")
    before = row_counts(app)
    totals = ledger_totals(app)

    same = post_webhook(client, "customers/redact", redact_ann(), webhook_id="c-1")
    other = post_webhook(client, "customers/redact", redact_ann(), webhook_id="c-2")

    assert (same.status_code, other.status_code) == (200, 200)
    assert row_counts(app) == {**before, "webhook_receipts": before["webhook_receipts"] + 1}
    assert ledger_totals(app) == totals


def test_customer_redact_carrying_only_an_email_finds_the_customer(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    payload = redact_ann(id=None, email="Ann@Example.com")

    assert post_webhook(client, "customers/redact", payload).status_code == 200

    with app.extensions["kanta"].db.read() as session:
        assert (
            session.scalars(select(Customer).where(Customer.email == "ann@example.com")).all() == []
        )
        assert customer_row(session, BO).email == "bo@example.com"


def test_customer_redact_for_someone_never_held_touches_nobody_sharing_the_email(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    """The id decides: an unknown customer id with Bo's email must not erase Bo."""
    bo_before = snapshot(app, BO)
    before = row_counts(app)

    payload = build_customers_redact(SHOP_ID, SHOP, 7_200_000_000_000_000_999, "bo@example.com", [])
    response = post_webhook(client, "customers/redact", payload)

    assert response.status_code == 200
    assert snapshot(app, BO) == bo_before
    # Only the delivery's receipt and the suppression of that (unknown) customer id are new.
    assert row_counts(app) == {
        **before,
        "webhook_receipts": before["webhook_receipts"] + 1,
        "redacted_customers": before["redacted_customers"] + 1,
    }


def test_a_redacted_customers_refund_later_is_still_a_200(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    """Her order is unlinked; a late refund has no one to take points from, and must not fail."""
    post_webhook(client, "customers/redact", redact_ann())
    totals = ledger_totals(app)
    refund = {"id": 7_300_000_000_000_000_001, "order_id": story["ann_order"]}

    assert post_webhook(client, "refunds/create", refund).status_code == 200
    assert ledger_totals(app) == totals


# --- customers/data_request ------------------------------------------------------------------


def test_data_request_exports_everything_held_on_ann(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    response = post_webhook(client, "customers/data_request", data_request())

    assert response.status_code == 200
    (export,) = exports(app)
    assert (export.data_request_id, export.shopify_customer_id) == (REQUEST_ID, ANN)
    data = export.payload
    assert data["held"] is True
    assert data["data_request_id"] == REQUEST_ID
    assert data["customer"] == {
        "shopify_customer_id": str(ANN),
        "email": "ann@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "member": True,
        "member_since": data["customer"]["member_since"],
        "marketing_consent": True,
        "points": 140,
        "pending_points": 0,
        "tier": data["customer"]["tier"],
    }
    assert [(e["kind"], e["points"]) for e in data["ledger"]] == [
        ("welcome_bonus", 100),
        ("order_award", 40),
    ]
    assert [o["order_id"] for o in data["orders"]] == [str(story["ann_order"])]
    assert data["orders"][0]["payment_method"] == "Cash on Delivery (COD)"
    assert data["orders"][0]["delivery_option"] == "Express"
    # Her own choice, and what her paid order taught (learned after it committed).
    assert sorted(data["preferences"], key=lambda p: (p["kind"], p["source"])) == [
        {"kind": "delivery", "source": "learned", "value": "Express"},
        {"kind": "payment", "source": "chosen", "value": "Cash on Delivery (COD)"},
        {"kind": "payment", "source": "learned", "value": "Cash on Delivery (COD)"},
    ]
    assert data["redemptions"] == [{"points": 10, "code": "KANTA-ANN-10", "status": "issued"}]
    assert str(BO) not in str(data)
    assert "bo@example.com" not in str(data)


def test_data_request_delivered_again_keeps_exactly_one_export(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    post_webhook(client, "customers/data_request", data_request(), webhook_id="d-1")
    first = exports(app)[0].payload

    same = post_webhook(client, "customers/data_request", data_request(), webhook_id="d-1")
    other = post_webhook(client, "customers/data_request", data_request(), webhook_id="d-2")

    assert (same.status_code, other.status_code) == (200, 200)
    assert [e.payload for e in exports(app)] == [first]


def test_data_request_for_an_unknown_customer_says_nothing_is_held(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    unknown = 7_200_000_000_000_000_999
    response = post_webhook(
        client, "customers/data_request", data_request(unknown, "bo@example.com")
    )

    assert response.status_code == 200
    (export,) = exports(app)
    assert export.payload["held"] is False
    assert export.payload["customer"] is None
    assert "bo@example.com" not in str(export.payload)  # Bo's email, but not Bo


def test_data_request_carrying_only_an_email_finds_the_customer(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    payload = data_request()
    payload["customer"]["id"] = None

    assert post_webhook(client, "customers/data_request", payload).status_code == 200
    (export,) = exports(app)
    assert export.payload["held"] is True
    assert export.shopify_customer_id == ANN  # so that redacting Ann later deletes it

    post_webhook(client, "customers/redact", redact_ann())
    assert exports(app) == []


def test_the_merchant_lists_and_downloads_prepared_data_requests(
    client: FlaskClient, story: dict[str, int]
) -> None:
    from tests.test_member_api import bearer

    post_webhook(client, "customers/data_request", data_request())
    listing = client.get("/api/admin/data-requests", headers=bearer())
    assert listing.status_code == 200
    (item,) = listing.get_json()["data_requests"]
    assert item["data_request_id"] == str(REQUEST_ID)
    assert item["customer_id"] == str(ANN)

    download = client.get(item["download_url"], headers=bearer())
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_json()["customer"]["email"] == "ann@example.com"

    # The other (installed) shop's token finds nothing: the export is not theirs.
    assert client.get(item["download_url"], headers=bearer(OTHER_SHOP)).status_code == 404
    assert client.get("/api/admin/data-requests", headers=bearer(OTHER_SHOP)).get_json() == {
        "data_requests": []
    }
    assert client.get("/api/admin/data-requests/12345", headers=bearer()).status_code == 404
    assert client.get("/api/admin/data-requests", headers={}).status_code == 401


def test_the_daily_job_prunes_old_webhook_receipts_only(
    app: Flask, client: FlaskClient, story: dict[str, int], clock: Clock
) -> None:
    from plugin.jobs import run_daily
    from plugin.models import WebhookReceipt

    def receipts() -> int:
        with app.extensions["kanta"].db.read() as session:
            return int(session.scalar(select(func.count()).select_from(WebhookReceipt)) or 0)

    before = receipts()
    assert before > 0
    clock.advance(days=29)
    post_webhook(client, "customers/data_request", data_request())
    assert run_daily(app.extensions["kanta"])["receipts_pruned"] == 0
    clock.advance(days=2)
    assert run_daily(app.extensions["kanta"])["receipts_pruned"] == before
    assert receipts() == 1


def test_a_late_webhook_after_customers_redact_cannot_bring_ann_back(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    """An orders/updated triggered before the erasure but delivered after it (a Shopify retry)
    must not recreate Ann's identity, relink her order or charge a later refund to anyone."""
    post_webhook(client, "customers/redact", redact_ann())
    totals = ledger_totals(app)
    late = build_order(
        order_id=story["ann_order"],
        shop_domain=SHOP,
        customer=build_customer(ANN, email="ann@example.com", first_name="Ann", last_name="Lee"),
        lines=[LineSpec("Tea", Decimal("40.00"))],
    )
    assert post_webhook(client, "orders/updated", late).status_code == 200
    assert post_webhook(client, "orders/fulfilled", late).status_code == 200
    refund = build_refund(
        refund_id=7_300_000_000_000_000_002, order=late, lines=[(late["line_items"][0]["id"], 1)]
    )
    assert post_webhook(client, "refunds/create", refund).status_code == 200

    with app.extensions["kanta"].db.read() as session:
        assert (
            session.scalar(
                select(func.count(Customer.id)).where(Customer.email == "ann@example.com")
            )
            == 0
        )
        assert (
            session.scalar(
                select(Order.customer_id).where(Order.shopify_order_id == story["ann_order"])
            )
            is None
        )
    assert ledger_totals(app) == totals


def test_ann_can_join_again_after_being_erased(
    app: Flask, client: FlaskClient, story: dict[str, int]
) -> None:
    """Joining is her own new choice: the suppression of the old identity is lifted."""
    post_webhook(client, "customers/redact", redact_ann())
    with unit_of_work(app) as session:
        facts = CustomerFacts(ANN, "ann@example.com", "Ann", "Lee")
        ledger.join_program(session, shop_row(session), facts, True, app.extensions["kanta"].now())
    with app.extensions["kanta"].db.read() as session:
        again = customer_row(session, ANN)
        assert again.is_member
        assert again.email == "ann@example.com"


def test_shop_redact_for_a_shop_that_reinstalled_since_deletes_nothing(
    app: Flask, client: FlaskClient, story: dict[str, int], clock: Clock
) -> None:
    from plugin.install import install_custom_app

    post_webhook(client, "app/uninstalled", build_app_uninstalled(SHOP_ID, SHOP))
    clock.advance(hours=1)
    install_custom_app(app.extensions["kanta"], SHOP, "shpat_again", "read_orders")
    clock.advance(hours=47)
    before = row_counts(app)
    # As Shopify sends it: 48 hours after the uninstall, so after the reinstall too.
    response = post_webhook(
        client,
        "shop/redact",
        build_shop_redact(SHOP_ID, SHOP),
        headers={"X-Shopify-Triggered-At": shopify_timestamp(clock.now)},
    )
    assert response.status_code == 200
    assert row_counts(app) == {**before, "webhook_receipts": before["webhook_receipts"] + 1}

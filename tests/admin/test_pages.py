"""The embedded pages as a merchant meets them: first contact, the member page, the OpenAPI
document, and the layout every page shares."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from plugin.admin import api_modules
from plugin.admin.openapi import build_openapi
from plugin.models import CustomerPreference
from tests.admin.conftest import add_member, bearer, page, shop_pk
from tests.conftest import OTHER_SHOP, install_shop
from tests.shopify_fixtures import ShopifyStack
from tests.story import Shopper, line


def test_the_apps_own_url_opened_directly_explains_where_kanta_opens(stack: ShopifyStack) -> None:
    response = stack.client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Kanta opens from your Shopify admin" in html
    assert "Apps → Kanta" in html
    assert "Bad Request" not in html


def test_in_the_demo_the_apps_own_url_leads_to_the_demo_store(make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import test_env

    env = {
        k: v
        for k, v in test_env("sqlite:///" + str(tmp_path / "demo.sqlite3")).items()
        if not k.startswith(("SHOPIFY_API", "TOKEN_"))
    }
    env["SHOPIFY_APP_URL"] = "http://127.0.0.1:5123"
    env["KANTA_DEMO"] = "1"
    app = make_app(env=env, INSTANCE_PATH=str(tmp_path))
    html = app.test_client().get("/").get_data(as_text=True)
    assert "open the demo store" in html
    assert 'href="http://127.0.0.1:5123/devstore/"' in html


def test_every_page_has_the_nav_and_polaris_styles(stack: ShopifyStack) -> None:
    for path in ("/", "/program", "/members"):
        html = page(stack, path).get_data(as_text=True)
        assert "<ui-nav-menu>" in html
        for label in ("Program", "Members", "Analytics", "Segments", "Import", "Data requests"):
            assert f">{label}</a>" in html
        assert 'rel="home"' in html
        assert "/static/polaris-tokens.css" in html
        assert '<meta name="shopify-api-key" content="test-api-key">' in html
        assert "cdn.shopify.com/shopifycloud/app-bridge.js" in html


def test_a_member_page_tells_the_story_in_the_merchants_words(stack: ShopifyStack) -> None:
    ada = Shopper(stack.app, stack.client)
    order = ada.order(line("Coat", "480.00"), line("Hat", "40.00"))
    ada.pays(order)
    ada.refunds(order, (1, 1))
    with stack.kanta.db.transaction() as session:
        from sqlalchemy import select

        from plugin.models import Customer

        customer = session.scalars(
            select(Customer).where(Customer.shopify_customer_id == ada.customer_id)
        ).one()
        session.add(
            CustomerPreference(
                shop_id=customer.shop_id,
                customer_id=customer.id,
                kind="payment",
                source="chosen",
                value="Bank Deposit",
            )
        )

    api = stack.client.get(f"/api/admin/members/{ada.customer_id}", headers=bearer()).get_json()
    assert [e["description"] for e in api["entries"]] == [
        f"Refund of 1 × Hat on Order {order['name']}",
        f"Order {order['name']}",
        # The first paid order made Ada a member: the welcome bonus, once.
        "Welcome bonus for joining",
    ]
    # The shopper's own choice wins over the one learned from the order, as in checkout.
    assert api["remembered"]["delivery"]["source"] == "learned"
    assert api["remembered"]["payment"] == {
        "value": "Bank Deposit",
        "source": "chosen",
        "updated_at": api["remembered"]["payment"]["updated_at"],
    }
    html = page(stack, f"/members/{ada.customer_id}").get_data(as_text=True)
    assert f"Order {order['name']}" in html
    assert "refund_reversal" not in html
    assert "20 points to Silver" in html
    assert "Bank Deposit" in html
    assert "their own choice" in html
    assert 'id="adjust-form"' in html
    assert 'data-error-for="reason"' in html


class _Inputs(HTMLParser):
    """Each ``<input>`` of a page by its name, with its attributes as a browser reads them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_name: dict[str, dict[str, str | None]] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            found = dict(attrs)
            self.by_name[found.get("name") or ""] = found


def test_the_form_fields_carry_their_constraints_and_placeholders(stack: ShopifyStack) -> None:
    # The attributes were once escaped as text (placeholder=&#34;Email,): the search box read
    # '"Email,' and no number field had its min or step.
    add_member(stack, shop_pk(stack), 7, "g@example.com")
    search = _Inputs(page(stack, "/members").get_data(as_text=True)).by_name["query"]
    assert search["placeholder"] == "Email, first or last name"
    assert search["autocomplete"] == "off"
    program = _Inputs(page(stack, "/program").get_data(as_text=True)).by_name
    assert (program["welcome_bonus"]["min"], program["welcome_bonus"]["step"]) == ("0", "1")
    assert (program["expiry_days"]["min"], program["expiry_days"]["step"]) == ("1", "1")
    assert program["earn_rate"]["inputmode"] == "decimal"
    assert "data-example-amount" in program["example_amount"]
    member = _Inputs(page(stack, "/members/7").get_data(as_text=True)).by_name
    assert member["reason"]["maxlength"] == "1000"
    assert (member["points"]["step"], member["points"]["inputmode"]) == ("1", "numeric")


def test_a_member_of_another_shop_is_not_shown(stack: ShopifyStack) -> None:
    other = install_shop(stack.app, OTHER_SHOP)
    add_member(stack, other, 555, "theirs@example.com")
    html = page(stack, "/members/555").get_data(as_text=True)
    assert "No such member in this shop" in html
    assert "theirs@example.com" not in html
    assert stack.client.get("/api/admin/members/555", headers=bearer()).status_code == 404


def test_an_adjustment_without_a_reason_is_refused_next_to_the_field(stack: ShopifyStack) -> None:
    add_member(stack, shop_pk(stack), 7, "g@example.com", points_balance=10)
    response = stack.client.post(
        "/api/admin/members/7/adjustments", json={"points": 5, "reason": " "}, headers=bearer()
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"reason": "a reason is required"}
    assert stack.client.get("/api/admin/members/7", headers=bearer()).get_json()["points"] == 10


def test_openapi_document_is_served_and_covers_every_admin_api_route(stack: ShopifyStack) -> None:
    served = stack.client.get("/api/admin/openapi.json").get_json()
    assert served == json.loads(json.dumps(build_openapi(api_modules())))
    assert served["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in served["paths"].items() for method in ops}
    routed = set()
    for rule in stack.app.url_map.iter_rules():
        if rule.rule.startswith("/api/admin/") and rule.rule != "/api/admin/openapi.json":
            path = rule.rule.replace("<", "{").replace(">", "}")
            routed |= {(path, m) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    assert routed == documented


def test_a_token_of_another_shop_cannot_adjust_this_shops_member(stack: ShopifyStack) -> None:
    install_shop(stack.app, OTHER_SHOP)
    add_member(stack, shop_pk(stack), 8, "h@example.com", points_balance=10)
    response = stack.client.post(
        "/api/admin/members/8/adjustments",
        json={"points": 500, "reason": "free points"},
        headers=bearer(OTHER_SHOP),
    )
    assert response.status_code == 404
    assert stack.client.get("/api/admin/members/8", headers=bearer()).get_json()["points"] == 10

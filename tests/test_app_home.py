"""The embedded app home as the Shopify admin loads it: verification, install, the page, its
headers, and the JS that fetches member details with fresh session tokens."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from plugin.models import Customer, Shop
from tests import conftest
from tests.conftest import OTHER_SHOP, SHOP, Clock, install_shop
from tests.shopify_fixtures import ShopifyStack

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def stack(make_app: Callable[..., Flask], clock: Clock) -> ShopifyStack:
    return ShopifyStack(make_app, clock)


def add_member(
    stack: ShopifyStack,
    shop_id: int,
    customer_id: int,
    email: str,
    *,
    points: int = 0,
    pending: int = 0,
    tier: str | None = None,
) -> None:
    with stack.kanta.db.transaction() as session:
        session.add(
            Customer(
                shop_id=shop_id,
                shopify_customer_id=customer_id,
                email=email,
                is_member=True,
                member_since=stack.kanta.now(),
                points_balance=points,
                pending_points=pending,
                tier_points=points,
                tier_key=tier,
            )
        )


def shop_id_of(stack: ShopifyStack, domain: str = SHOP) -> int:
    with stack.kanta.db.read() as session:
        return session.scalars(select(Shop.id).where(Shop.domain == domain)).one()


def test_document_request_without_id_token_goes_to_patch_page(stack: ShopifyStack) -> None:
    response = stack.client.get("/", query_string={"embedded": "1", "shop": SHOP})

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/patch-id-token"
    query = parse_qs(location.query)
    assert query["shop"] == [SHOP]
    assert query["shopify-reload"][0].startswith("/?")


def test_patch_page_loads_app_bridge_for_the_shop(stack: ShopifyStack) -> None:
    response = stack.client.get(
        "/auth/patch-id-token", query_string={"shop": SHOP, "shopify-reload": "/?shop=" + SHOP}
    )

    assert response.status_code == 200
    assert "app-bridge.js" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
    )


def test_page_headers_allow_only_the_shops_admin_to_frame_it(stack: ShopifyStack) -> None:
    response = stack.load_app_home()

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/html"


def test_page_shows_program_and_empty_state(stack: ShopifyStack) -> None:
    page = stack.load_app_home().get_data(as_text=True)

    assert "Demo mode" not in page
    assert "1 point per 1 USD spent" in page
    for text in ("Bronze", "Silver", "500 points", "Gold", "1500 points", "×1.5"):
        assert text in page
    assert "spendable at once" in page
    assert "points never expire" in page
    assert "5.00 off" in page
    assert "0 members" in page
    assert "Points appear here after your first paid order" in page
    # Our own assets only (App Bridge is Shopify's and loads in the admin, not in the demo).
    assert "/static/kanta.css" in page
    assert "/static/kanta-session.js" in page


def test_members_table_is_scoped_to_the_shop(stack: ShopifyStack) -> None:
    stack.load_app_home()
    own = shop_id_of(stack)
    other = install_shop(stack.app, OTHER_SHOP)
    add_member(stack, own, 101, "ada@example.com", points=620, pending=40, tier="silver")
    add_member(stack, own, 102, "grace@example.com", points=10)
    add_member(stack, other, 201, "intruder@example.com", points=999)

    page = stack.load_app_home().get_data(as_text=True)

    assert "2 members" in page
    assert "ada@example.com" in page
    assert "grace@example.com" in page
    assert "intruder@example.com" not in page
    assert "/members/101?embedded=1&amp;shop=shop-one.myshopify.com" in page
    assert "Silver" in page
    assert ">620<" in page
    assert ">40<" in page
    assert "Points appear here" not in page


def test_member_details_api_answers_the_session_token_the_js_sends(stack: ShopifyStack) -> None:
    stack.load_app_home()
    add_member(stack, shop_id_of(stack), 101, "ada@example.com", points=5)

    response = stack.client.get(
        "/api/admin/members/101", headers={"Authorization": f"Bearer {stack.id_token()}"}
    )

    assert response.status_code == 200
    assert response.get_json()["email"] == "ada@example.com"


def test_session_token_helper_speaks_app_bridge_and_the_demo_protocol(
    stack: ShopifyStack,
) -> None:
    def asset(name: str) -> str:
        with stack.client.get(f"/static/{name}") as response:
            assert response.status_code == 200
            return response.get_data(as_text=True)

    helper, forms = asset("kanta-session.js"), asset("kanta-forms.js")
    assert "var(--p-color-bg-surface)" in asset("kanta.css")
    assert ":root" in asset("polaris-tokens.css")
    assert "window.shopify.idToken()" in helper
    assert '"kanta:id-token"' in helper
    assert "requestId" in helper
    assert "Authorization" in helper
    assert "X-Shopify-Retry-Invalid-Session-Request" in helper
    assert "errors" in forms
    assert "data-error-for" in forms


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database(make_app: Callable[..., Flask]) -> None:
    app = make_app(env=conftest.test_env("sqlite:////nonexistent-dir/kanta.sqlite3"))
    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_the_patch_page_only_reloads_paths_of_this_app(client: FlaskClient) -> None:
    for target in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/"):
        response = client.get(
            "/auth/patch-id-token", query_string={"shop": SHOP, "shopify-reload": target}
        )
        assert response.status_code == 400


def test_the_patch_page_refuses_paths_hiding_another_host_behind_control_characters(
    client: FlaskClient,
) -> None:
    for target in ("/\t/evil.example/x", "/\n/evil.example/x", "/ /evil.example"):
        response = client.get(
            "/auth/patch-id-token", query_string={"shop": SHOP, "shopify-reload": target}
        )
        assert response.status_code == 400
    ok = client.get("/auth/patch-id-token", query_string={"shop": SHOP, "shopify-reload": "/?a=b"})
    assert ok.status_code != 400

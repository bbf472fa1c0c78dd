"""Installing Kanta: token exchange on the app's first load, the CLI for custom apps, and the
refresh of expiring offline tokens (one refresh per shop however many workers ask)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import jwt
import pytest
from flask import Flask
from sqlalchemy import func, select

from plugin.install import (
    REFRESH_MARGIN,
    ReauthorizationRequired,
    access_token_for,
    install_from_id_token,
)
from plugin.loyalty.program import ProgramSettings
from plugin.models import Reward, Shop
from plugin.shopify.gateway import InvalidIdToken, ShopifyUnavailable
from tests.conftest import API_KEY, API_SECRET, SHOP, Clock
from tests.shopify_fixtures import ShopifyStack

# The shared test secret is shorter than PyJWT's recommended 32 bytes; production secrets are not.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def stack(make_app: Callable[..., Flask], clock: Clock) -> ShopifyStack:
    return ShopifyStack(make_app, clock)


def stored_shop(stack: ShopifyStack, domain: str = SHOP) -> Shop:
    with stack.kanta.db.read() as session:
        return session.scalars(select(Shop).where(Shop.domain == domain)).one()


def rewards_of(stack: ShopifyStack, shop_id: int) -> list[Reward]:
    with stack.kanta.db.read() as session:
        return list(
            session.scalars(select(Reward).where(Reward.shop_id == shop_id).order_by(Reward.id))
        )


def exchanges(stack: ShopifyStack) -> int:
    """Token-exchange requests Kanta sent to the devstore."""
    return sum(1 for r in stack.token_requests if r.get("grant_type") != "refresh_token")


# ---------------------------------------------------------------------------- token exchange


def test_first_app_load_installs_by_token_exchange(stack: ShopifyStack, clock: Clock) -> None:
    response = stack.load_app_home()

    assert response.status_code == 200
    shop = stored_shop(stack)
    assert shop.is_installed
    assert shop.installed_at == clock.now
    # Tokens are stored encrypted: the column holds ciphertext that decrypts to the live token.
    assert shop.access_token_enc is not None
    assert shop.refresh_token_enc is not None
    access = stack.kanta.cipher.decrypt(shop.access_token_enc)
    refresh = stack.kanta.cipher.decrypt(shop.refresh_token_enc)
    assert access.startswith("shpat_")
    assert access not in shop.access_token_enc
    assert refresh.startswith("shprt_")
    assert refresh not in shop.refresh_token_enc
    assert stack.store.token_is_live(SHOP, access)
    # An expiring offline token: 1 h access, 90-day refresh, on Kanta's clock, in UTC.
    assert shop.access_token_expires_at is not None
    assert shop.access_token_expires_at.utcoffset() == timedelta(0)
    assert abs(shop.access_token_expires_at - (clock.now + timedelta(hours=1))) < timedelta(
        seconds=5
    )
    assert shop.refresh_token_expires_at is not None
    assert abs(shop.refresh_token_expires_at - (clock.now + timedelta(days=90))) < timedelta(
        seconds=5
    )
    assert shop.scopes == stack.store.scopes(SHOP)
    # The default program and reward, and the shop's details from GraphQL.
    assert shop.program == ProgramSettings().to_dict()
    rewards = rewards_of(stack, shop.id)
    assert [(r.title, r.points_cost, r.reward_type, r.value) for r in rewards] == [
        ("5.00 off", 500, "fixed_amount", Decimal("5.00")),
        ("5.00 store credit", 500, "store_credit", Decimal("5.00")),
    ]
    resource = stack.store.shop_resource(SHOP)
    assert shop.name == resource["name"]
    assert shop.currency == resource["currency"]
    assert shop.shopify_shop_id == resource["id"]
    page = response.get_data(as_text=True)
    assert "Earn rate" in page
    assert "Gold" in page
    assert "5.00 off" in page


def test_second_load_does_not_exchange_again(stack: ShopifyStack) -> None:
    assert stack.load_app_home().status_code == 200
    issued = exchanges(stack)
    token_before = stored_shop(stack).access_token_enc

    assert stack.load_app_home().status_code == 200

    assert exchanges(stack) == issued
    assert stored_shop(stack).access_token_enc == token_before


def test_reinstall_after_uninstall_keeps_program_and_rewards(
    stack: ShopifyStack, clock: Clock
) -> None:
    stack.load_app_home()
    first = stored_shop(stack)
    program = {**first.program, "earn_rate": "3"}
    with stack.kanta.db.transaction() as session:
        row = session.get(Shop, first.id)
        assert row is not None
        row.program = program
        row.uninstalled_at = clock.now
    clock.advance(days=2)

    response = stack.load_app_home()

    assert response.status_code == 200
    again = stored_shop(stack)
    assert again.is_installed
    assert again.installed_at == first.installed_at
    assert again.program == program
    assert len(rewards_of(stack, again.id)) == 2  # the defaults, not created a second time
    assert again.access_token_enc != first.access_token_enc


def test_uninstall_webhook_then_reopen_reinstalls(stack: ShopifyStack) -> None:
    stack.load_app_home()
    stack.store.uninstall_app(SHOP)
    assert not stored_shop(stack).is_installed

    stack.store.install_app(SHOP)
    response = stack.load_app_home()

    assert response.status_code == 200
    shop = stored_shop(stack)
    assert shop.is_installed
    assert shop.access_token_enc is not None
    assert stack.store.token_is_live(SHOP, stack.kanta.cipher.decrypt(shop.access_token_enc))


def test_id_token_refused_by_shopify_installs_nothing(stack: ShopifyStack) -> None:
    # Signed with our secret, so it passes the local check, but its issuer is another shop:
    # Shopify refuses to exchange it (invalid_subject_token).
    now = int(time.time())
    claims = {"iss": "https://other.myshopify.com/admin", "dest": f"https://{SHOP}",
              "aud": API_KEY, "sub": "1", "exp": now + 60, "nbf": now, "iat": now}  # fmt: skip
    token = jwt.encode(claims, API_SECRET, algorithm="HS256")

    with pytest.raises(InvalidIdToken):
        install_from_id_token(stack.kanta, {"exchangeable": True, "token": token, "claims": claims})
    # The app home refuses it before asking Shopify: its issuer and destination disagree.
    response = stack.load_app_home(token=token)

    assert response.status_code == 401
    with stack.kanta.db.read() as session:
        assert session.scalar(select(func.count(Shop.id))) == 0


def test_app_home_with_bad_or_expired_id_token_redirects_to_patch_page(
    stack: ShopifyStack,
) -> None:
    forged = stack.load_app_home(token=stack.id_token().rsplit(".", 1)[0] + ".forged")
    expired = stack.load_app_home(token=stack.id_token(now=stack.store.now().replace(year=2020)))

    for response in (forged, expired):
        assert response.status_code == 302
        assert "/auth/patch-id-token?" in response.headers["Location"]
        assert "id_token" not in response.headers["Location"].split("?", 1)[1].split("&")[0]
    with stack.kanta.db.read() as session:
        assert session.scalar(select(func.count(Shop.id))) == 0
    assert exchanges(stack) == 0


def test_id_token_for_another_app_is_refused(stack: ShopifyStack) -> None:
    from devstore.signing import mint_admin_session_token

    token = mint_admin_session_token(SHOP, "other-app", API_SECRET)
    response = stack.load_app_home(token=token)

    assert response.status_code == 401
    assert exchanges(stack) == 0


def test_install_survives_shop_details_failure(stack: ShopifyStack) -> None:
    stack.store.graphql_fail_next(1, "http500")

    response = stack.load_app_home()

    assert response.status_code == 200
    shop = stored_shop(stack)
    assert shop.is_installed
    assert shop.name is None


# ---------------------------------------------------------------------------- CLI install


def test_cli_installs_custom_app(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["shops", "install", SHOP, "--access-token", "shpat_x", "--scopes", "read_orders"]
    )

    assert result.exit_code == 0, result.output
    assert SHOP in result.output
    k = app.extensions["kanta"]
    with k.db.read() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        assert shop.is_installed
        assert shop.access_token_enc is not None
        assert "shpat_x" not in shop.access_token_enc
        assert k.cipher.decrypt(shop.access_token_enc) == "shpat_x"
        assert shop.access_token_expires_at is None
        assert shop.refresh_token_enc is None
        assert shop.scopes == "read_orders"
        assert shop.program == ProgramSettings().to_dict()
        assert session.scalar(select(func.count(Reward.id)).where(Reward.shop_id == shop.id)) == 2
    # Idempotent: a second run replaces the token, keeps one reward.
    again = app.test_cli_runner().invoke(args=["shops", "install", SHOP, "--access-token", "y"])
    assert again.exit_code == 0
    with k.db.read() as session:
        assert session.scalar(select(func.count(Reward.id))) == 2
    with app.app_context():
        assert access_token_for(k, shop.id) == "y"


@pytest.mark.parametrize(
    "domain", ["evil.com", "shop.myshopify.com.evil.test", "sh_op.myshopify.com", ""]
)
def test_cli_refuses_bad_domains(app: Flask, domain: str) -> None:
    result = app.test_cli_runner().invoke(
        args=["shops", "install", domain, "--access-token", "shpat_x"]
    )

    assert result.exit_code != 0
    assert "not a shop domain" in result.output
    assert "Traceback" not in result.output
    with app.extensions["kanta"].db.read() as session:
        assert session.scalar(select(func.count(Shop.id))) == 0


# ---------------------------------------------------------------------------- refresh


def installed(stack: ShopifyStack) -> Shop:
    assert stack.load_app_home().status_code == 200
    return stored_shop(stack)


def test_token_far_from_expiry_is_used_as_is(stack: ShopifyStack, clock: Clock) -> None:
    shop = installed(stack)
    clock.advance(minutes=30)

    token = access_token_for(stack.kanta, shop.id)

    assert token == stack.kanta.cipher.decrypt(shop.access_token_enc or "")
    assert stack.store.refresh_count(SHOP) == 0


def test_token_near_expiry_is_refreshed_and_new_pair_stored(
    stack: ShopifyStack, clock: Clock
) -> None:
    shop = installed(stack)
    old_refresh = stack.kanta.cipher.decrypt(shop.refresh_token_enc or "")
    clock.advance(seconds=3600 - REFRESH_MARGIN.total_seconds() + 1)

    token = access_token_for(stack.kanta, shop.id)

    assert stack.store.refresh_count(SHOP) == 1
    assert stack.store.token_is_live(SHOP, token)
    now_stored = stored_shop(stack)
    assert stack.kanta.cipher.decrypt(now_stored.access_token_enc or "") == token
    assert now_stored.access_token_expires_at is not None
    # shopifyapp reports expiry to the second; allow for that rounding.
    assert abs(now_stored.access_token_expires_at - (clock.now + timedelta(hours=1))) < timedelta(
        seconds=5
    )
    new_refresh = stack.kanta.cipher.decrypt(now_stored.refresh_token_enc or "")
    assert new_refresh != old_refresh
    # The used refresh token is dead; the new one is stored; the next call needs no refresh.
    assert stack.store.refresh_access_token(SHOP, old_refresh) is None
    assert access_token_for(stack.kanta, shop.id) == token
    assert stack.store.refresh_count(SHOP) == 1


def test_refused_refresh_token_needs_reauth_then_app_load_reinstalls(
    stack: ShopifyStack, clock: Clock
) -> None:
    shop = installed(stack)
    # Another install elsewhere retired our refresh token (one refreshable token per app+store).
    stack.store.issue_access_token(SHOP, expiring=True)
    clock.advance(minutes=58)

    with pytest.raises(ReauthorizationRequired, match="open Kanta"):
        access_token_for(stack.kanta, shop.id)

    marked = stored_shop(stack)
    assert marked.access_token_enc is None
    assert marked.refresh_token_enc is None
    assert marked.is_installed  # still installed: webhooks keep flowing
    with pytest.raises(ReauthorizationRequired):
        access_token_for(stack.kanta, shop.id)
    # The merchant opens the app: a new exchange, a working token again.
    assert stack.load_app_home().status_code == 200
    token = access_token_for(stack.kanta, shop.id)
    assert stack.store.token_is_live(SHOP, token)


def test_shopify_down_during_refresh_uses_the_token_while_it_lasts(
    stack: ShopifyStack, clock: Clock
) -> None:
    shop = installed(stack)
    current = stack.kanta.cipher.decrypt(shop.access_token_enc or "")
    stack.token_endpoint_down = True
    clock.advance(minutes=58)

    assert access_token_for(stack.kanta, shop.id) == current

    clock.advance(minutes=3)  # now past its expiry
    with pytest.raises(ShopifyUnavailable):
        access_token_for(stack.kanta, shop.id)
    # Nothing was forgotten: when Shopify is back, the stored refresh token still works.
    stack.token_endpoint_down = False
    assert stack.store.token_is_live(SHOP, access_token_for(stack.kanta, shop.id))


def test_no_token_for_unknown_or_uninstalled_shop(stack: ShopifyStack, clock: Clock) -> None:
    with pytest.raises(ReauthorizationRequired):
        access_token_for(stack.kanta, 999)
    shop = installed(stack)
    with stack.kanta.db.transaction() as session:
        row = session.get(Shop, shop.id)
        assert row is not None
        row.uninstalled_at = clock.now
    with pytest.raises(ReauthorizationRequired):
        access_token_for(stack.kanta, shop.id)


def test_expiring_token_shows_devstore_and_kanta_agree(stack: ShopifyStack, clock: Clock) -> None:
    """Kanta refreshes before the devstore would reject the token."""
    shop = installed(stack)
    clock.advance(minutes=57)
    token = access_token_for(stack.kanta, shop.id)
    data = stack.kanta.shopify.graphql(SHOP, token, "query { shop { name } }")
    assert data["shop"]["name"]


@pytest.mark.postgres_only
def test_refresh_race_refreshes_once(stack: ShopifyStack, clock: Clock) -> None:
    shop = installed(stack)
    old_refresh = stack.kanta.cipher.decrypt(shop.refresh_token_enc or "")
    clock.advance(minutes=58)
    barrier = threading.Barrier(4)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            tokens.append(access_token_for(stack.kanta, shop.id))
        except BaseException as error:  # surfaced by the assertions below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert len(tokens) == 4
    assert len(set(tokens)) == 1
    assert stack.store.refresh_count(SHOP) == 1
    assert stack.store.token_is_live(SHOP, tokens[0])
    assert stack.store.refresh_access_token(SHOP, old_refresh) is None
    # The stored refresh token is the live one: the next refresh works.
    clock.advance(minutes=58)
    assert stack.store.token_is_live(SHOP, access_token_for(stack.kanta, shop.id))
    assert stack.store.refresh_count(SHOP) == 2


@pytest.mark.postgres_only
def test_concurrent_first_loads_install_once(stack: ShopifyStack, clock: Clock) -> None:
    """Two admin tabs opening the app at once: one shop row, and the stored pair is the one
    Shopify issued last (exchanges queue on the row lock), so its refresh token works."""
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def open_app() -> None:
        token = stack.id_token()
        client = stack.app.test_client()
        barrier.wait()
        response = client.get("/", query_string={"embedded": "1", "shop": SHOP, "id_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=open_app) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert statuses == [200, 200]
    with stack.kanta.db.read() as session:
        assert session.scalar(select(func.count(Shop.id))) == 1
        assert session.scalar(select(func.count(Reward.id))) == 2
    clock.advance(minutes=58)
    shop = stored_shop(stack)
    assert stack.store.token_is_live(SHOP, access_token_for(stack.kanta, shop.id))
    assert stack.store.refresh_count(SHOP) == 1


def test_the_daily_job_rotates_a_refresh_token_before_it_dies_unused(
    stack: ShopifyStack, clock: Clock
) -> None:
    from plugin.jobs import keep_tokens_alive

    installed(stack)
    clock.advance(days=1)
    assert keep_tokens_alive(stack.kanta, clock.now) == 0  # far from its 90 days
    clock.advance(days=83)  # a quiet shop: nothing has called Shopify for 84 days
    assert keep_tokens_alive(stack.kanta, clock.now) == 1
    assert stack.store.refresh_count(SHOP) == 1
    rotated = stored_shop(stack)
    assert rotated.refresh_token_expires_at is not None
    assert rotated.refresh_token_expires_at - clock.now > timedelta(days=89)
    assert keep_tokens_alive(stack.kanta, clock.now) == 0

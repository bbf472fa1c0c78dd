"""Installing Kanta on a shop and keeping its offline access token alive.

- ``install_from_id_token``: the embedded app's install (reference §1.6, §1.8). Shopify installs
  the app itself; on the app's first load we exchange the App Bridge ID token for an **expiring
  offline token** (1 h access + 90-day rotating refresh token) and store both encrypted.
- ``install_custom_app``: a custom app's non-expiring token given on the command line.
- ``access_token_for``: a live token for background work, refreshed shortly before it expires.
  Shopify keeps one refreshable token per app+store and a refresh token dies when used
  (§1.7), so refreshes are serialised per shop with a row lock (``SELECT … FOR UPDATE``; on
  SQLite every write transaction is already exclusive): the second worker waits, re-reads and
  uses the first worker's new token instead of burning the same refresh token.

Token exchange also happens under the shop's row lock, so the pair stored is always the one
Shopify issued last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .db import insert_for
from .loyalty.program import ProgramSettings
from .models import Reward, Shop
from .shopify.gateway import (
    RefreshTokenRejected,
    ShopifyError,
    ShopifyUnavailable,
    TokenGrant,
    is_valid_shop_domain,
    shop_domain_from_dest,
)

if TYPE_CHECKING:
    from shopify_app import IdTokenDetails

    from .runtime import Kanta

log = logging.getLogger(__name__)

# Refresh this long before the access token expires, so a job never starts with a token that
# dies mid-way.
REFRESH_MARGIN = timedelta(minutes=5)
# ... and rotate the refresh token this long before it would expire unused.
REFRESH_TOKEN_MARGIN = timedelta(days=7)

SHOP_DETAILS_QUERY = "query KantaShopDetails { shop { id name currencyCode } }"


class InstallError(Exception):
    """The install cannot proceed; the message is one line a merchant or operator can act on."""


class ReauthorizationRequired(Exception):
    """The shop holds no usable offline token (never installed, uninstalled, or its refresh token
    was refused). The next load of the app in the Shopify admin re-exchanges a session token."""


def default_rewards(shop_id: int) -> list[Reward]:
    """What every new shop offers: 500 points for 5.00 off, or for 5.00 of native store credit
    (in the shop's currency, which is why the titles name no currency sign)."""
    return [
        Reward(
            shop_id=shop_id,
            title="5.00 off",
            points_cost=500,
            reward_type="fixed_amount",
            value=Decimal("5.00"),
        ),
        Reward(
            shop_id=shop_id,
            title="5.00 store credit",
            points_cost=500,
            reward_type="store_credit",
            value=Decimal("5.00"),
        ),
    ]


# ---------------------------------------------------------------------------- install


def install_from_id_token(kanta: Kanta, id_token: IdTokenDetails | dict[str, Any]) -> Shop:
    """Exchange a verified App Bridge ID token for an expiring offline token and install (or
    reinstall) the shop it names. A reinstall keeps the program, members and rewards."""
    claims = id_token.claims if not isinstance(id_token, dict) else id_token["claims"]
    domain = shop_domain_from_dest(str(claims.get("dest", "")))
    with kanta.db.transaction() as session:
        shop = _lock_or_create_shop(session, domain)
        grant = kanta.shopify.exchange_id_token(id_token)
        _store_grant(kanta, shop, grant)
        _mark_installed(kanta, session, shop)
        token = grant.access_token
    log.info("installed %s by token exchange (scopes %s)", domain, grant.scope)
    _fill_shop_details(kanta, shop.id, domain, token)
    _activate_checkout_functions(kanta, shop.id)
    with kanta.db.read() as session:
        installed = session.get(Shop, shop.id)
        assert installed is not None
        return installed


def _activate_checkout_functions(kanta: Kanta, shop_id: int) -> None:
    """After the install committed: turn the app's checkout Functions on (a job; idempotent, so
    each install or reinstall may ask). A failure here must not fail the install."""
    try:
        kanta.jobs.enqueue("activate_checkout_functions", shop_id=shop_id)
    except Exception:  # logged; the next install or app load asks again
        log.exception("could not turn the checkout Functions on for shop %s", shop_id)


def install_custom_app(kanta: Kanta, domain: str, access_token: str, scopes: str = "") -> str:
    """Install with a custom app's non-expiring Admin API token; returns the shop domain."""
    domain = domain.strip().lower()
    if not is_valid_shop_domain(domain):
        raise InstallError(f"{domain!r} is not a shop domain: expected NAME.myshopify.com")
    access_token = access_token.strip()
    if not access_token:
        raise InstallError("the access token is empty")
    with kanta.db.transaction() as session:
        shop = _lock_or_create_shop(session, domain)
        shop.access_token_enc = kanta.cipher.encrypt(access_token)
        shop.access_token_expires_at = None
        shop.refresh_token_enc = None
        shop.refresh_token_expires_at = None
        shop.scopes = scopes.strip()
        _mark_installed(kanta, session, shop)
    log.info("installed %s with a custom app token", domain)
    return domain


def _lock_or_create_shop(session: Session, domain: str) -> Shop:
    """The shop's row, locked for this transaction; created (not yet installed) if new.

    ``INSERT … ON CONFLICT DO NOTHING`` then ``SELECT … FOR UPDATE``: two first loads of the
    same shop queue on the row instead of failing on the unique domain.
    """
    session.execute(
        insert_for(session, Shop)
        .values(domain=domain, currency="USD", scopes="", program={})
        .on_conflict_do_nothing(index_elements=["domain"])
    )
    return session.scalars(
        select(Shop)
        .where(Shop.domain == domain)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _mark_installed(kanta: Kanta, session: Session, shop: Shop) -> None:
    first_install = shop.installed_at is None
    if first_install:
        shop.installed_at = kanta.now()
    shop.last_installed_at = kanta.now()
    shop.uninstalled_at = None
    if not shop.program:
        shop.program = ProgramSettings().to_dict()
        shop.program_updated_at = kanta.now()
    has_rewards = session.scalar(select(func.count(Reward.id)).where(Reward.shop_id == shop.id))
    if first_install and not has_rewards:
        session.add_all(default_rewards(shop.id))


def _store_grant(kanta: Kanta, shop: Shop, grant: TokenGrant) -> None:
    now = kanta.now()
    shop.access_token_enc = kanta.cipher.encrypt(grant.access_token)
    shop.access_token_expires_at = now + grant.expires_in if grant.expires_in else None
    if grant.refresh_token:
        shop.refresh_token_enc = kanta.cipher.encrypt(grant.refresh_token)
        shop.refresh_token_expires_at = (
            now + grant.refresh_token_expires_in if grant.refresh_token_expires_in else None
        )
    else:
        shop.refresh_token_enc = None
        shop.refresh_token_expires_at = None
    if grant.scope:
        shop.scopes = grant.scope


def _fill_shop_details(kanta: Kanta, shop_id: int, domain: str, token: str) -> None:
    """Name, currency and Shopify id, once per install. Best effort: the install stands even if
    Shopify cannot answer now."""
    try:
        data = kanta.shopify.graphql(domain, token, SHOP_DETAILS_QUERY)
    except ShopifyError as error:
        log.warning("could not fetch shop details for %s: %s", domain, error.code)
        return
    details = data.get("shop") or {}
    with kanta.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return
        if isinstance(details.get("name"), str):
            shop.name = details["name"][:255]
        currency = details.get("currencyCode")
        if isinstance(currency, str) and len(currency) == 3:
            shop.currency = currency
        gid = str(details.get("id") or "")
        if gid.rpartition("/")[2].isascii() and gid.rpartition("/")[2].isdigit():
            shop.shopify_shop_id = int(gid.rpartition("/")[2])


# ---------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class TokenState:
    """What the app home needs to know about a shop's stored token, without decrypting it."""

    installed: bool
    has_token: bool
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None
    refreshable: bool

    def is_live(self, now: datetime) -> bool:
        """A token we can use now or refresh into one: nothing to exchange."""
        if not self.installed or not self.has_token:
            return False
        if self.access_expires_at is None or self.access_expires_at > now:
            return True
        return self.refreshable and (
            self.refresh_expires_at is None or self.refresh_expires_at > now
        )


def token_state(shop: Shop) -> TokenState:
    return TokenState(
        installed=shop.is_installed,
        has_token=shop.access_token_enc is not None,
        access_expires_at=shop.access_token_expires_at,
        refresh_expires_at=shop.refresh_token_expires_at,
        refreshable=shop.refresh_token_enc is not None,
    )


def access_token_for(kanta: Kanta, shop_id: int) -> str:
    """A live offline access token for the shop, refreshed when < ``REFRESH_MARGIN`` is left.

    Raises ``ReauthorizationRequired`` when there is none (and marks the shop so its next app
    load re-exchanges), ``ShopifyUnavailable`` when Shopify cannot refresh right now.
    """
    now = kanta.now()
    with kanta.db.read() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not shop.is_installed or shop.access_token_enc is None:
            raise ReauthorizationRequired(f"shop {shop_id} has no offline access token")
        if not _needs_refresh(shop, now):
            return kanta.cipher.decrypt(shop.access_token_enc)

    rejected: RefreshTokenRejected | None = None
    with kanta.db.transaction() as session:
        shop = session.scalars(
            select(Shop).where(Shop.id == shop_id).with_for_update()
        ).one_or_none()
        if shop is None or shop.access_token_enc is None:
            raise ReauthorizationRequired(f"shop {shop_id} has no offline access token")
        now = kanta.now()
        if not _needs_refresh(shop, now):
            # Another worker refreshed while we waited for the lock: use its token.
            return kanta.cipher.decrypt(shop.access_token_enc)
        try:
            if shop.refresh_token_enc is None or (
                shop.refresh_token_expires_at is not None and shop.refresh_token_expires_at <= now
            ):
                raise RefreshTokenRejected("the refresh token has expired", "refresh_token_expired")
            grant = kanta.shopify.refresh(shop.domain, kanta.cipher.decrypt(shop.refresh_token_enc))
        except RefreshTokenRejected as error:
            # Dead for good: forget the pair so the next app load exchanges a new ID token.
            _forget_tokens(shop)
            rejected = error
        except ShopifyUnavailable:
            # Shopify is down; the current token may still have a few minutes left.
            expires = shop.access_token_expires_at
            if expires is not None and expires > now:
                return kanta.cipher.decrypt(shop.access_token_enc)
            raise
        else:
            _store_grant(kanta, shop, grant)
            log.info("refreshed the offline token of %s", shop.domain)
            return grant.access_token
    log.warning("refresh token of shop %s refused (%s): re-auth needed", shop_id, rejected.code)
    raise ReauthorizationRequired(
        f"Shopify refused shop {shop_id}'s refresh token: the merchant must open Kanta in the "
        "Shopify admin again"
    ) from rejected


def _needs_refresh(shop: Shop, now: datetime) -> bool:
    expires = shop.access_token_expires_at
    if expires is not None and expires - now < REFRESH_MARGIN:
        return True
    # A refresh token that would die unused (90 days) is rotated while it still works, so a
    # quiet shop never needs its merchant to reopen the app just to keep Kanta connected.
    refresh_expires = shop.refresh_token_expires_at
    return (
        shop.refresh_token_enc is not None
        and refresh_expires is not None
        and refresh_expires - now < REFRESH_TOKEN_MARGIN
    )


def _forget_tokens(shop: Shop) -> None:
    shop.access_token_enc = None
    shop.access_token_expires_at = None
    shop.refresh_token_enc = None
    shop.refresh_token_expires_at = None

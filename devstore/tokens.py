"""Access and refresh tokens: issue, rotate, revoke, expire (the token endpoint's state)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from devstore.state import JSON, StoreState, iso


class AccessTokens(StoreState):
    def _issue(self, shop_domain: str, *, expiring: bool, online: bool = False) -> JSON:
        now = self.now()
        scope = self._shop(shop_domain)["scopes"]
        token = "shpat_" + secrets.token_hex(16)
        ttl = 86_399 if online else self.access_token_ttl
        self._state["access_tokens"][token] = {
            "shop": shop_domain,
            "scope": scope,
            "expires_at": iso(now + timedelta(seconds=ttl)) if expiring or online else None,
            "revoked": False,
            "issued_at": iso(now),
        }
        response: JSON = {"access_token": token, "scope": scope}
        if online:
            response.update(
                expires_in=ttl,
                associated_user_scope=scope,
                associated_user={
                    "id": 1,
                    "first_name": "Demo",
                    "last_name": "Owner",
                    "email": "owner@example.com",
                    "account_owner": True,
                    "locale": "en",
                    "collaborator": False,
                    "email_verified": True,
                },
            )
            return response
        if expiring:
            # Only one refreshable token per app+store: a new one retires the others (§1.7).
            for record in self._state["refresh_tokens"].values():
                if record["shop"] == shop_domain and record["status"] == "active":
                    record["status"] = "retired"
            refresh = "shprt_" + secrets.token_hex(16)
            self._state["refresh_tokens"][refresh] = {
                "shop": shop_domain,
                "expires_at": iso(now + timedelta(seconds=self.refresh_token_ttl)),
                "status": "active",
            }
            response.update(
                expires_in=self.access_token_ttl,
                refresh_token=refresh,
                refresh_token_expires_in=self.refresh_token_ttl,
            )
        return response

    def issue_access_token(self, shop_domain: str, *, expiring: bool, online: bool = False) -> JSON:
        """Issue a token (the body of a successful token-endpoint response)."""
        with self._locked():
            response = self._issue(shop_domain, expiring=expiring, online=online)
            self._save()
            return response

    def refresh_access_token(self, shop_domain: str, refresh_token: str) -> JSON | None:
        """Rotate: a live, unused refresh token yields a new access + refresh token and becomes
        invalid; anything else yields ``None`` (→ ``invalid_grant``)."""
        with self._locked():
            record = self._state["refresh_tokens"].get(refresh_token)
            if (
                record is None
                or record["shop"] != shop_domain
                or record["status"] != "active"
                or datetime.fromisoformat(record["expires_at"]) <= self.now()
            ):
                return None
            record["status"] = "used"
            counts = self._state["refresh_counts"]
            counts[shop_domain] = counts.get(shop_domain, 0) + 1
            response = self._issue(shop_domain, expiring=True)
            self._save()
            return response

    def revoke_offline_token(self, shop_domain: str, token: str) -> bool:
        """Retire a non-expiring token being migrated to an expiring one (§1.7)."""
        with self._locked():
            record = self._state["access_tokens"].get(token)
            if record is None or record["shop"] != shop_domain or record["revoked"]:
                return False
            if record["expires_at"] is not None:
                return False
            record["revoked"] = True
            self._save()
            return True

    def token_is_live(self, shop_domain: str, token: str) -> bool:
        """Whether ``token`` is an unrevoked, unexpired access token for this shop."""
        with self._locked():
            record = self._state["access_tokens"].get(token)
            if record is None or record["shop"] != shop_domain or record["revoked"]:
                return False
            expires = record["expires_at"]
            return expires is None or datetime.fromisoformat(expires) > self.now()

    def refresh_count(self, shop_domain: str | None = None) -> int:
        """How many successful refreshes this shop saw (to prove racing workers refreshed once)."""
        with self._locked():
            count: int = self._state["refresh_counts"].get(shop_domain or self.default_shop, 0)
            return count

    def expire_access_tokens(self, shop_domain: str | None = None) -> None:
        """Test/demo hook: make every expiring access token of the shop expire now."""
        with self._locked():
            domain = shop_domain or self.default_shop
            past = iso(self.now() - timedelta(seconds=1))
            for record in self._state["access_tokens"].values():
                if record["shop"] == domain and record["expires_at"] is not None:
                    record["expires_at"] = past
            self._save()

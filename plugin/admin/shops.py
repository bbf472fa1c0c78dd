"""The calling shop as the admin's hot reads need it (the members list): its id and program,
remembered per process for a few seconds, as the checkout widget remembers its shop
(``plugin/checkout/loyalty.py``), so a page costs its own statements and no shop lookup.

A program saved in this process is forgotten at once (``forget_shop``); the other processes see
it, or an uninstall, within ``CACHE_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..auth import refuse_uninstalled
from ..checkout.cache import TTLCache
from ..loyalty.program import ProgramSettings
from ..models import Shop
from ..runtime import Kanta, kanta

CACHE_SECONDS = 3.0
CACHE_KEY = "admin_shops"


@dataclass(frozen=True)
class AdminShop:
    id: int
    domain: str
    program: ProgramSettings


def _cache(k: Kanta) -> TTLCache[AdminShop]:
    found = k.extras.get(CACHE_KEY)
    if found is None:
        found = k.extras[CACHE_KEY] = TTLCache[AdminShop](CACHE_SECONDS, 10_000)
    return found


def admin_shop(domain: str) -> AdminShop:
    """The installed shop ``domain``, or a 403 as ``installed_shop`` gives."""
    k = kanta()
    cache = _cache(k)
    shop = cache.get(domain)
    if shop is None:
        # The read engine: autocommit, no pre-ping on PostgreSQL (plugin/db.py).
        shop = k.db.run_read(lambda connection: _read_shop(connection, domain))
        if shop is None:
            abort(refuse_uninstalled())
        cache.put(domain, shop)
    return shop


def forget_shop(k: Kanta, domain: str) -> None:
    _cache(k).drop(domain)


def _read_shop(connection: Connection, domain: str) -> AdminShop | None:
    row = connection.execute(
        select(Shop.id, Shop.program, Shop.installed_at, Shop.uninstalled_at).where(
            Shop.domain == domain
        )
    ).first()
    if row is None or row.installed_at is None or row.uninstalled_at is not None:
        return None
    return AdminShop(id=row.id, domain=domain, program=ProgramSettings.from_dict(row.program))

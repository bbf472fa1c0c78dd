"""After an install commits: make sure the shop runs Kanta's two checkout Functions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..models import Shop
from . import job

if TYPE_CHECKING:
    from ..runtime import Kanta

log = logging.getLogger(__name__)


@job("activate_checkout_functions")
def activate_checkout_functions(kanta: Kanta, shop_id: int) -> list[str]:
    from ..install import access_token_for
    from ..shopify.customizations import ensure_checkout_functions

    with kanta.db.read() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not shop.is_installed:
            return []
        domain = shop.domain
    created = ensure_checkout_functions(kanta.shopify, domain, access_token_for(kanta, shop_id))
    if created:
        log.info("checkout Functions turned on for %s: %s", domain, ", ".join(created))
    return created

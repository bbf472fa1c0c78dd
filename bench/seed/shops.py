"""The benchmark shops, each with its program and a reward."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from plugin.crypto import TokenCipher
from plugin.loyalty.program import ProgramSettings

from .config import PENDING_DAYS, TOKEN_ENCRYPTION_KEY
from .plan import ShopPlan
from .rows import Encoder


def create_shops(connection: Connection, plans: list[ShopPlan], now: datetime) -> dict[str, int]:
    encode = Encoder(connection.dialect.name)
    # PostgreSQL takes the datetime itself; SQLite the text SQLAlchemy would store.
    moment: Any = encode.moment if encode.sqlite else (lambda value: value)
    cipher = TokenCipher(TOKEN_ENCRYPTION_KEY)
    program = ProgramSettings.from_dict({"pending_days": PENDING_DAYS}).to_dict()
    ids: dict[str, int] = {}
    for plan in plans:
        found = connection.execute(
            text("SELECT id FROM shops WHERE domain = :d"), {"d": plan.domain}
        ).scalar()
        if found is None:
            found = connection.execute(
                text(
                    "INSERT INTO shops (domain, name, currency, access_token_enc, scopes, "
                    "installed_at, last_installed_at, program, program_updated_at, "
                    "tiers_aged_until, created_at) VALUES (:domain, :name, 'USD', :token, "
                    "'read_customers,read_orders,write_discounts', :now, :now, :program, :now, "
                    ":aged, :now) RETURNING id"
                ),
                {
                    "domain": plan.domain,
                    "name": f"Bench shop {plan.number}",
                    "token": cipher.encrypt(f"shpat_bench_{plan.number}"),
                    "now": moment(now),
                    "program": json.dumps(program),
                    "aged": moment(now - timedelta(days=365)),
                },
            ).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO rewards (shop_id, title, points_cost, reward_type, value, "
                    "active, created_at) VALUES (:shop, '$5 off', 500, 'fixed_amount', "
                    ":value, :active, :now)"
                ),
                {
                    "shop": found,
                    "value": "5.00" if encode.sqlite else Decimal("5.00"),
                    "active": True,
                    "now": moment(now),
                },
            )
        ids[plan.domain] = int(found)
    return ids

"""The build: plan, database, shops, chunks, indexes and preferences, in that order, resumable."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from .database import ensure_database, migrate
from .indexes import drop_index, secondary_indexes
from .loading import bulk_engine, finish, load_chunks
from .plan import ShopPlan, plan_shops
from .preferences import ensure_preferences
from .shops import create_shops
from .state import read_state, write_state


@dataclass(frozen=True)
class BuildReport:
    built_now: bool
    seconds: float
    shops: list[str]
    members: int
    entries: int


def build(
    database_url: str,
    members: int,
    entries: int,
    other_shops: int = 2,
    seed: int = 1,
    progress: bool = True,
) -> BuildReport:
    started = time.monotonic()
    plans = plan_shops(members, entries, other_shops)
    wanted = json.dumps(
        {"members": members, "entries": entries, "other_shops": other_shops, "seed": seed}
    )
    ensure_database(database_url)
    migrate(database_url)
    engine = bulk_engine(database_url)
    try:
        with engine.begin() as connection:
            state = read_state(connection)
            if state.get("plan", wanted) != wanted:
                raise SystemExit(
                    f"this database was seeded with {state['plan']}; use another database "
                    f"for {wanted}"
                )
            if state.get("status") == "built":
                built_now = ensure_preferences(connection, progress)
                return _report(built_now, started, plans)
            if "plan" not in state:
                taken = connection.execute(text("SELECT COUNT(*) FROM customers")).scalar_one()
                if taken:
                    raise SystemExit("the database already holds customers: give an empty one")
                now = datetime.now(UTC).replace(microsecond=0)
                write_state(connection, "plan", wanted)
                write_state(connection, "now", now.isoformat())
                write_state(connection, "indexes", json.dumps(secondary_indexes(connection)))
                state = read_state(connection)
            now = datetime.fromisoformat(state["now"])
            indexes = [tuple(pair) for pair in json.loads(state["indexes"])]
            for name, definition in indexes:
                drop_index(connection, name, definition)
            shop_ids = create_shops(connection, plans, now)
        load_chunks(engine, plans, shop_ids, now, seed, progress)
        finish(engine, indexes, progress)
        with engine.begin() as connection:
            ensure_preferences(connection, progress)
            write_state(connection, "status", "built")
    finally:
        engine.dispose()
    return _report(True, started, plans)


def _report(built_now: bool, started: float, plans: list[ShopPlan]) -> BuildReport:
    return BuildReport(
        built_now=built_now,
        seconds=time.monotonic() - started,
        shops=[p.domain for p in plans],
        members=sum(p.members for p in plans),
        entries=sum(p.entries for p in plans),
    )

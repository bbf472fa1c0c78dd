"""Members list benchmark: ``GET /api/admin/members`` at a million members, on PostgreSQL.

    .venv/bin/python bench/members_list.py [--members 1000000] [--requests 50]

Seeds a fresh schema with ``--members`` members in one shop (plus a tenth as many in another, so
no plan can ignore ``shop_id``), then times each access path through the real app in-process
(session-token verification, query, JSON): the newest page, a page deep in the list (keyset
cursor), a tier filter, and prefix searches on email and on last name. Prints p50/p99 ms per
path and each query's plan head, so an index regression shows as a Seq Scan.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from devstore.signing import mint_admin_session_token  # noqa: E402
from plugin.admin.members import MembersQuery, encode_cursor, members_select  # noqa: E402
from plugin.cli import alembic_config  # noqa: E402
from plugin.loyalty.program import ProgramSettings  # noqa: E402
from plugin.models import Shop  # noqa: E402

API_KEY = "bench-api-key"
API_SECRET = "bench-api-secret-0123456789abcdef0123456789"
SHOP = "bench-shop.myshopify.com"
OTHER = "bench-other.myshopify.com"
POSTGRES = os.environ.get(
    "KANTA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

SEED = """
INSERT INTO customers (shop_id, shopify_customer_id, email, first_name, last_name, is_member,
    member_since, points_balance, pending_points, tier_points, tier_key, created_at, updated_at)
SELECT :shop, n, 'customer' || n || '@example.com', 'First' || (n % 5000), 'Last' || (n % 20000),
    true, now(), n % 3000, 0, n % 3000,
    CASE WHEN n % 3000 >= 1500 THEN 'gold' WHEN n % 3000 >= 500 THEN 'silver' ELSE 'bronze' END,
    now(), now()
FROM generate_series(1, :count) AS n
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    from alembic import command as alembic_command

    schema = f"kanta_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    try:
        engine = create_engine(url)
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            alembic_command.upgrade(config, "head")
        with engine.begin() as connection:
            ids = {}
            for domain in (SHOP, OTHER):
                ids[domain] = connection.execute(
                    text(
                        "INSERT INTO shops (domain, currency, scopes, program, created_at,"
                        " installed_at) VALUES (:d, 'USD', '', '{}', now(), now()) RETURNING id"
                    ),
                    {"d": domain},
                ).scalar_one()
            started = time.perf_counter()
            connection.execute(text(SEED), {"shop": ids[SHOP], "count": args.members})
            connection.execute(text(SEED), {"shop": ids[OTHER], "count": args.members // 10})
            print(f"seeded {args.members:,} members in {time.perf_counter() - started:.1f} s")
        with engine.begin() as connection:
            connection.execute(text("ANALYZE customers"))
            deep = connection.execute(
                text("SELECT id FROM customers WHERE shop_id = :s ORDER BY id LIMIT 1 OFFSET 1000"),
                {"s": ids[SHOP]},
            ).scalar_one()
        env = {
            "SHOPIFY_API_KEY": API_KEY,
            "SHOPIFY_API_SECRET": API_SECRET,
            "SHOPIFY_APP_URL": "https://kanta.bench",
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "DATABASE_URL": url,
        }
        with tempfile.TemporaryDirectory() as instance:
            app = create_app({"KANTA_ENV": env, "INSTANCE_PATH": instance})
            client = app.test_client()
            paths = {
                "newest page": {},
                "deep page (keyset)": {"after": encode_cursor(deep)},
                "tier = gold": {"tier": "gold"},
                "email prefix": {"query": "customer12345"},
                "last-name prefix": {"query": "last1234"},
                "first + last": {"query": "first12 last12"},
            }
            queries = {
                "newest page": MembersQuery(),
                "deep page (keyset)": MembersQuery(after=deep),
                "tier = gold": MembersQuery(tier="gold"),
                "email prefix": MembersQuery(text="customer12345"),
                "last-name prefix": MembersQuery(text="last1234"),
                "first + last": MembersQuery(text="first12 last12"),
            }
            print(f"\n{'path':<20} {'p50 ms':>8} {'p99 ms':>8}  plan")
            for name, params in paths.items():
                timings = []
                for _ in range(args.requests):
                    token = mint_admin_session_token(SHOP, API_KEY, API_SECRET)
                    started = time.perf_counter()
                    response = client.get(
                        "/api/admin/members",
                        query_string=params,
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.get_data(as_text=True)
                timings.sort()
                p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
                shape = plan(engine, ids[SHOP], queries[name])
                print(f"{name:<20} {statistics.median(timings):8.1f} {p99:8.1f}  {shape}")
            app.extensions["kanta"].jobs.shutdown()
            app.extensions["kanta"].db.dispose()
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def plan(engine: object, shop_id: int, query: MembersQuery) -> str:
    from sqlalchemy.orm import Session

    with Session(engine) as session:  # type: ignore[call-overload]
        shop = session.get(Shop, shop_id)
        statement = members_select(shop, ProgramSettings(), query, "postgresql")
        compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        lines = [row[0].strip() for row in session.execute(text(f"EXPLAIN {compiled}"))]
    scans = [line for line in lines if "Scan" in line]
    return "; ".join(s.split("  (cost")[0] for s in scans[:3])


if __name__ == "__main__":
    main()

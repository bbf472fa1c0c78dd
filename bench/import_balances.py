"""Balance import benchmark: a 100,000-row CSV through the real API and job, to commit.

    .venv/bin/python bench/import_balances.py [--db sqlite|postgresql|both] [--rows 100000]

The shop already has 80 % of the file's customers (half the rows name them by email, half by
Shopify customer id); the other 20 % are new customer ids; a third of the rows carry a tier.
Prints the seconds of the upload (``POST /api/admin/imports``: read and check the file, store
it) and of the job (look every row up, then write customers, ledger entries and projections in
one transaction), checks every balance against the file, and says whether the 20 s target holds.
Run it with ``--profile`` to see where the job's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from devstore.signing import mint_admin_session_token  # noqa: E402

API_KEY = "bench-api-key"
API_SECRET = "bench-api-secret-0123456789abcdef0123456789"
SHOP = "bench-shop.myshopify.com"
POSTGRES = os.environ.get(
    "KANTA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGET_SECONDS = 20.0
ID_BASE = 7_400_000_000_000


def migrate(url: str) -> None:
    from alembic import command

    from plugin.cli import alembic_config

    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()


def build_csv(rows: int) -> tuple[str, int]:
    lines = ["email,customer_id,points,tier"]
    expected = 0
    tiers = ("", "", "Silver")
    for n in range(rows):
        points = (n * 37) % 5000
        expected += points
        tier = tiers[n % 3]
        if n < rows * 4 // 10:
            lines.append(f"member{n}@example.com,,{points},{tier}")
        else:
            lines.append(f",{ID_BASE + n},{points},{tier}")
    return "\n".join(lines) + "\n", expected


def seed_customers(app: object, shop_id: int, rows: int) -> None:
    from plugin.models import Customer

    kanta = app.extensions["kanta"]  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    known = rows * 8 // 10
    with kanta.db.transaction() as session:
        session.execute(
            insert(Customer),
            [
                {
                    "shop_id": shop_id,
                    "shopify_customer_id": ID_BASE + n,
                    "email": f"member{n}@example.com",
                    "is_member": n % 2 == 0,
                    "points_balance": 0,
                    "pending_points": 0,
                    "tier_points": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(known)
            ],
        )


def run(db: str, rows: int, profile: bool) -> float:
    from app import create_app
    from plugin.crypto import TokenCipher
    from plugin.models import Customer, LedgerEntry, Shop

    schema = None
    if db == "postgresql":
        schema = f"kanta_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench-import.sqlite3"
    try:
        migrate(url)
        key = Fernet.generate_key().decode()
        env = {
            "SHOPIFY_API_KEY": API_KEY,
            "SHOPIFY_API_SECRET": API_SECRET,
            "SHOPIFY_APP_URL": "https://kanta.example",
            "TOKEN_ENCRYPTION_KEY": key,
            "DATABASE_URL": url,
        }
        # TESTING runs jobs eagerly, in the request: the POST's time is then upload + job.
        app = create_app({"TESTING": True, "KANTA_ENV": env})
        kanta = app.extensions["kanta"]
        with kanta.db.transaction() as session:
            shop = Shop(
                domain=SHOP,
                access_token_enc=TokenCipher(key).encrypt("shpat_bench"),
                installed_at=datetime.now(UTC),
                program={},
            )
            session.add(shop)
            session.flush()
            shop_id = shop.id
        seed_customers(app, shop_id, rows)
        body, expected = build_csv(rows)
        token = mint_admin_session_token(SHOP, API_KEY, API_SECRET, lifetime=600)
        client = app.test_client()

        import plugin.jobs as jobs

        timings: dict[str, float] = {}
        real_job = jobs.JOBS["import_balances"]

        def timed_job(k: object, **kwargs: object) -> object:
            started = time.perf_counter()
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            try:
                return real_job(k, **kwargs)
            finally:
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                timings["job"] = time.perf_counter() - started

        jobs.JOBS["import_balances"] = timed_job
        started = time.perf_counter()
        response = client.post(
            "/api/admin/imports",
            data=body.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        )
        total = time.perf_counter() - started
        jobs.JOBS["import_balances"] = real_job
        assert response.status_code == 202, response.get_data(as_text=True)
        import_id = response.get_json()["id"]
        status = client.get(
            f"/api/admin/imports/{import_id}", headers={"Authorization": f"Bearer {token}"}
        ).get_json()
        assert status["status"] == "done", status
        with kanta.db.read() as session:
            balance = session.scalar(
                select(func.sum(Customer.points_balance)).where(Customer.shop_id == shop_id)
            )
            entries = session.scalar(
                select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "import")
            )
        assert balance == expected, (balance, expected)
        upload = total - timings["job"]
        verdict = "OK" if total <= TARGET_SECONDS else "TOO SLOW"
        print(
            f"{db:>10}: {rows:,} rows  upload {upload:5.2f} s  job {timings['job']:5.2f} s  "
            f"total {total:5.2f} s  ({entries:,} entries, {rows / total:,.0f} rows/s)  "
            f"target {TARGET_SECONDS:.0f} s: {verdict}"
        )
        kanta.db.dispose()
        return total
    finally:
        if schema is not None:
            admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run(db, args.rows, args.profile)


if __name__ == "__main__":
    main()

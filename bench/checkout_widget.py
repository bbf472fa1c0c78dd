"""Checkout widget benchmark: ``GET /api/checkout/loyalty?subtotal=…`` against hello-world.

    python -m bench.checkout_widget [--database-url URL ...] [--seconds 10] [--connections 4]

Each database must have been built by ``python -m bench.seed`` (defaults: the PostgreSQL
databases ``kanta_bench_1m``, 1,000,000 members and 20,000,000 entries, and ``kanta_bench_10k``).
Kanta and a Flask hello-world run under the same gunicorn configuration (2 sync workers) and are
loaded by the same wrk command in the same run; hello-world is measured before and after Kanta and
the ratio is to the mean of the two. Every request carries a checkout session token minted for
one logged-in member (``sub`` = the customer's GID), cycling over many members picked at random
so a per-customer cache cannot flatter the figure; a second, "cached" run cycles over a handful.
Target (issue 10): ≥ 0.35 × hello-world and p99 ≤ 10 ms, at 1,000,000 and at 10,000 members.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.seed import API_KEY, API_SECRET, MAIN_SHOP, server_env
from bench.wrk import (
    HELLO_TARGET,
    KANTA_TARGET,
    Comparison,
    GunicornServer,
    Profiler,
    WrkLoad,
    compare,
    comparison_table,
    fetch,
    machine,
    run_wrk,
    write_requests,
)
from devstore.signing import mint_checkout_session_token

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEFAULT_DATABASES = (f"{POSTGRES}/kanta_bench_1m", f"{POSTGRES}/kanta_bench_10k")
WIDGET_PATH = "/api/checkout/loyalty"
TARGET_RATIO = 0.35
TARGET_P99_MS = 10.0
# The fields the widget's contract promises (issue 10); a 200 without them is not measured.
WIDGET_FIELDS = {"member", "points", "pending_points", "tier", "next_tier", "rewards"}


@dataclass(frozen=True)
class Database:
    url: str
    name: str
    members: int
    customer_ids: list[int]


def sample_members(url: str, count: int, seed: int = 7) -> Database:
    """``count`` Shopify customer ids of the main shop's members, picked at random."""
    engine = create_engine(url)
    with engine.connect() as connection:
        shop_id = connection.execute(
            text("SELECT id FROM shops WHERE domain = :d"), {"d": MAIN_SHOP}
        ).scalar()
        if shop_id is None:
            raise SystemExit(f"{url}: no {MAIN_SHOP}; build it with python -m bench.seed")
        low, high, members = connection.execute(
            text("SELECT MIN(id), MAX(id), COUNT(*) FROM customers WHERE shop_id = :s"),
            {"s": shop_id},
        ).one()
        rng = random.Random(seed)
        picked = sorted(rng.sample(range(low, high + 1), min(count, high - low + 1)))
        ids: list[int] = []
        for start in range(0, len(picked), 1000):
            batch = ", ".join(str(i) for i in picked[start : start + 1000])
            ids.extend(
                connection.execute(
                    text(
                        "SELECT shopify_customer_id FROM customers "
                        f"WHERE shop_id = :s AND is_member AND id IN ({batch})"
                    ),
                    {"s": shop_id},
                ).scalars()
            )
    engine.dispose()
    rng.shuffle(ids)
    name = url.rsplit("/", 1)[-1]
    return Database(url, name, int(members), ids)


def widget_requests(customer_ids: list[int], seed: int = 11) -> list[tuple[str, str]]:
    """One request per customer: their own token and a cart subtotal of a few tens."""
    rng = random.Random(seed)
    out = []
    for customer_id in customer_ids:
        token = mint_checkout_session_token(
            MAIN_SHOP, API_KEY, API_SECRET, customer_id=customer_id, lifetime=3600
        )
        subtotal = Decimal(rng.randint(500, 25_000)) / 100
        out.append((f"{WIDGET_PATH}?subtotal={subtotal}", f"Bearer {token}"))
    return out


def check_answer(base_url: str, request: tuple[str, str]) -> dict[str, object]:
    status, body = fetch(base_url + request[0], request[1])
    if status != 200:
        raise SystemExit(f"the widget answered {status}: {body[:300]!r}")
    answer: dict[str, object] = json.loads(body)
    missing = WIDGET_FIELDS - answer.keys()
    if missing:
        raise SystemExit(f"the widget's answer lacks {sorted(missing)}: {answer}")
    return answer


def verdict(comparison: Comparison) -> str:
    figures = comparison.endpoint
    met = (
        comparison.ratio >= TARGET_RATIO and figures.p99_ms <= TARGET_P99_MS and figures.failed == 0
    )
    return (
        f"{comparison.name}: {'met' if met else 'MISSED'}: {comparison.ratio:.2f}× hello "
        f"(target ≥ {TARGET_RATIO}), p99 {figures.p99_ms:.2f} ms (target ≤ {TARGET_P99_MS:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", action="append", help="repeatable; default: both")
    parser.add_argument("--customers", type=int, default=20_000, help="distinct members cycled")
    parser.add_argument("--cached-customers", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="hello/Kanta pairs per figure")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--profile", action="store_true", help="then py-spy the workers through one more run"
    )
    args = parser.parse_args()
    load = WrkLoad(args.threads, args.connections, args.seconds)
    urls = args.database_url or list(DEFAULT_DATABASES)
    databases = [sample_members(url, args.customers) for url in urls]
    print(machine())
    print(
        f"{load.describe()} × {args.rounds} rounds alternating with hello-world, gunicorn 2 "
        f"sync workers, {args.customers:,} members cycled (cached: {args.cached_customers})"
    )

    comparisons: list[Comparison] = []
    profiles: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, GunicornServer(HELLO_TARGET, {}) as hello:
        for db in databases:
            requests = widget_requests(db.customer_ids)
            uncached = write_requests(Path(tmp) / f"{db.name}.txt", requests)
            cached = write_requests(
                Path(tmp) / f"{db.name}-cached.txt", requests[: args.cached_customers]
            )
            with GunicornServer(KANTA_TARGET, server_env(db.url)) as kanta:
                answer = check_answer(kanta.url, requests[0])
                print(f"{db.name}: one answer: {json.dumps(answer)[:300]}…")
                for name, file in (
                    (f"{db.name} ({db.members:,} members)", uncached),
                    (f"{db.name} cached ({args.cached_customers} members)", cached),
                ):
                    comparisons.append(
                        compare(name, hello.url, uncached, kanta.url, file, load, args.rounds)
                    )
                if args.profile:
                    with Profiler(kanta, load.seconds, Path(tmp)) as profiler:
                        run_wrk(kanta.url, uncached, load, warmup_seconds=0)
                    profiles.append(f"{db.name}, uncached:\n{profiler.report()}")
    print(comparison_table(comparisons))
    for comparison in comparisons:
        print(verdict(comparison))
    for profile in profiles:
        print(profile)


if __name__ == "__main__":
    main()

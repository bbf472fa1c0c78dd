"""Webhook ingest benchmark: signed ``orders/paid`` deliveries, full path to commit.

    .venv/bin/python bench/webhook_ingest.py [--db sqlite|postgresql|both] [--deliveries 3000]

Measures Kanta and a Flask hello-world under the same gunicorn configuration (2 sync workers) with
the same client, in the same run, and prints deliveries/s, p50/p99 latency, server CPU per
delivery and the ratio to hello-world. The load: 500 customers with skewed popularity, orders of
3–5 lines (4–10 KB), 10 % redeliveries (same webhook id) and 5 % refunds mixed in.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstore.payloads import (  # noqa: E402
    ID_BASE,
    LineSpec,
    build_customer,
    build_order,
    build_refund,
)
from devstore.signing import webhook_headers  # noqa: E402

API_KEY = "bench-api-key"
API_SECRET = "bench-api-secret-0123456789abcdef0123456789"
SHOP = "bench-shop.myshopify.com"
POSTGRES = os.environ.get(
    "KANTA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Result:
    name: str
    deliveries: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu(pid: int) -> float:
    """User+system CPU seconds of a process and its children (gunicorn master + workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def make_deliveries(count: int, seed: int = 1) -> list[tuple[bytes, dict[str, str]]]:
    rng = random.Random(seed)
    customers = [
        build_customer(
            ID_BASE + 100 + i, email=f"c{i}@example.com", first_name="C", last_name=str(i)
        )
        for i in range(500)
    ]
    weights = [1 / (i + 1) for i in range(500)]  # Zipf-like popularity
    out: list[tuple[bytes, dict[str, str]]] = []
    orders: list[dict[str, object]] = []
    while len(out) < count:
        roll = rng.random()
        if roll < 0.10 and out:
            out.append(rng.choice(out))  # a redelivery: same body, same webhook id
            continue
        if roll < 0.15 and orders:
            order = rng.choice(orders)
            lines = order["line_items"]  # type: ignore[index]
            refund = build_refund(
                refund_id=ID_BASE + 50_000_000 + len(out),
                order=order,  # type: ignore[arg-type]
                lines=[(lines[0]["id"], 1)],  # type: ignore[index]
            )
            topic, payload = "refunds/create", refund
        else:
            customer = rng.choices(customers, weights)[0]
            order = build_order(
                order_id=ID_BASE + 10_000_000 + len(out),
                shop_domain=SHOP,
                customer=customer,
                lines=[
                    LineSpec(
                        title=f"Product {n}",
                        price=Decimal(rng.randint(500, 9000)) / 100,
                        quantity=rng.randint(1, 3),
                        sku=f"SKU-{n}",
                    )
                    for n in range(rng.randint(3, 5))
                ],
                shipping=Decimal("4.90"),
                tax_rate=Decimal("0.08"),
            )
            orders.append(order)
            topic, payload = "orders/paid", order
        body = json.dumps(payload).encode()
        headers = webhook_headers(
            topic=topic,
            shop_domain=SHOP,
            body=body,
            secret=API_SECRET,
            api_version="2026-04",
            webhook_id=str(uuid.uuid4()),
        )
        out.append((body, headers))
    return out


def prepare_kanta(db: str, workdir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    if db == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        schema = f"kanta_bench_{uuid.uuid4().hex[:8]}"
        engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    env = {
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_APP_URL": "https://kanta.bench",
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": url,
    }
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run(
        [flask, "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [flask, "--app", "app", "shops", "install", SHOP, "--access-token", "shpat_bench"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    return env


def run_server(
    target: str,
    env: dict[str, str],
    deliveries: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    name: str,
) -> Result:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
            target,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/webhooks"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name}: server did not start") from None
                time.sleep(0.2)
        with httpx.Client(timeout=30) as client:
            for body, headers in deliveries[:50]:  # warm-up (not measured)
                client.post(url, content=body, headers=headers)
        latencies: list[float] = []

        def send(item: tuple[bytes, dict[str, str]]) -> None:
            start = time.perf_counter()
            response = client.post(url, content=item[0], headers=item[1])
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: HTTP {response.status_code} {response.text[:200]}")

        measured = deliveries[50:]
        with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
            cpu0 = tree_cpu(proc.pid)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(send, measured))
            seconds = time.perf_counter() - t0
            cpu = tree_cpu(proc.pid) - cpu0
        return Result(name, len(measured), seconds, latencies, cpu)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    deliveries = make_deliveries(args.deliveries + 50)
    size = statistics.mean(len(b) for b, _ in deliveries)
    print(
        f"{len(deliveries)} deliveries, mean body {size / 1024:.1f} KB, "
        f"concurrency {args.concurrency}"
    )
    baseline = run_server(
        "bench.hello:create_app()", {}, deliveries, args.concurrency, "hello-world"
    )
    results = [baseline]
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory() as tmp:
            env = prepare_kanta(db, Path(tmp))
            results.append(
                run_server("app:create_app()", env, deliveries, args.concurrency, f"kanta/{db}")
            )
    print(
        f"{'server':<18}{'deliv/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/deliv':>14}{'× hello':>9}"
    )
    for r in results:
        print(
            f"{r.name:<18}{r.rate:>10.0f}{r.pct(0.5):>9.1f}{r.pct(0.99):>9.1f}"
            f"{1000 * r.cpu_seconds / r.deliveries:>14.2f}{r.rate / baseline.rate:>9.2f}"
        )


if __name__ == "__main__":
    main()

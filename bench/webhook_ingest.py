"""Webhook ingest benchmark: signed ``orders/paid`` deliveries, full path to commit, on wrk.

    .venv/bin/python bench/webhook_ingest.py [--db sqlite|postgresql|both] [--duration 10]
        [--rounds 3]

One run measures, with the same client and the same deliveries:

- Flask hello-world under the same gunicorn (4 sync workers, as the README deploys Kanta): the
  baseline every ratio uses;
- Express hello-world (2 cluster processes);
- Shopify's Node stack doing a lean loyalty path (``../shared/peers/shopify-node``, installed
  here with npm into a temporary folder, on its own PostgreSQL database);
- Kanta (the same gunicorn) on PostgreSQL and on SQLite, its after-commit jobs queued to Redis
  as in production (no Celery worker runs during the measurement; the queue is emptied after).

The client is wrk (Debian package ``wrk``): 1 thread, 8 connections, a Lua script
(``bench/deliveries.lua``) feeding deliveries signed beforehand into a file — ``orders/paid``
bodies of 3 lines, each delivery a new order (a new webhook id), 500 customers. A Kanta or peer
run that would send any delivery twice is refused, so redeliveries (cheap duplicates) never
flatter a figure.

The servers are measured in rounds (``--rounds``, 3 by default), each round every server in
turn, so that a slow spell of a shared machine lowers one round's figures rather than one
server's; each round's ratios compare servers measured minutes apart, and the table reports the
median rate and the median of the rounds' ratios (with their range). Per server and round: 2 s
of warm-up; on PostgreSQL, an ``ANALYZE`` of the server's database (Kanta's and
the peer's alike), which autovacuum would have run by a store's first minute of traffic: a
database created for the run and measured for 10 s otherwise never gets statistics, and its
planner guesses (bench/README.md, 2026-12-02 17:26); then the peak (wrk's closed loop: 8
requests in flight); in the last round, then the latency at about half the peak rate. Plain
wrk has no rate option, so each connection is paced with a pause after every response
(``KANTA_BENCH_DELAY_MS``), calibrated in 4 s runs (up to three) so that the rate lands near
half the peak; the p99 reported is wrk's latency at that rate (closed loop, so a stalled request
delays its connection's next one rather than being counted as queued).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wrk import free_port  # noqa: E402
from devstore.payloads import ID_BASE, LineSpec, build_customer, build_order  # noqa: E402
from devstore.signing import sign_webhook  # noqa: E402

API_KEY = "bench-api-key"
API_SECRET = "bench-api-secret-0123456789abcdef0123456789"
SHOP = "bench-shop.myshopify.com"
POSTGRES = os.environ.get(
    "KANTA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PEER = ROOT.parent / "shared" / "peers" / "shopify-node"
LUA = ROOT / "bench" / "deliveries.lua"
BENCH_REDIS = "redis://127.0.0.1:6379/14"
CONNECTIONS = 8
THREADS = 1
WORKERS = 4
NODE_PROCESSES = 2  # one event loop per core


@dataclass
class Run:
    rate: float
    p99_ms: float
    requests: int
    errors: int
    next_index: int
    wrapped: int


@dataclass
class Server:
    """A server measured in every round: started afresh each time, on the same database, each
    run starting in the file where its previous run stopped."""

    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path = ROOT
    once_only: bool = True  # refuse a run that would send a delivery twice
    analyze: str | None = None  # the PostgreSQL database to ANALYZE after the first warm-up
    next_index: int = 1
    peaks: list[Run] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # server CPU (all its processes) a request
    half: Run | None = None


def tree_cpu(pid: int) -> float:
    """User+system CPU seconds of a process and its children (gunicorn or node workers)."""
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


def write_deliveries(path: Path, count: int, seed: int = 1) -> float:
    """``count`` signed orders/paid deliveries, one a line (see bench/deliveries.lua); returns
    the mean body size in bytes."""
    rng = random.Random(seed)
    customers = [
        build_customer(
            ID_BASE + 100 + i, email=f"c{i}@example.com", first_name="C", last_name=str(i)
        )
        for i in range(500)
    ]
    size = 0
    with path.open("w") as out:
        for n in range(count):
            order = build_order(
                order_id=ID_BASE + 10_000_000 + n,
                shop_domain=SHOP,
                customer=rng.choice(customers),
                lines=[
                    LineSpec(
                        title=f"Product {k}",
                        price=Decimal(rng.randint(500, 9000)) / 100,
                        quantity=rng.randint(1, 3),
                        sku=f"SKU-{k}",
                    )
                    for k in range(3)
                ],
                shipping=Decimal("4.90"),
            )
            body = json.dumps(order, separators=(",", ":"))
            size += len(body)
            signature = sign_webhook(body.encode(), API_SECRET)
            out.write(f"{signature}\t{uuid.uuid4()}\torders/paid\t{SHOP}\t{body}\n")
    return size / count


def wrk(port: int, deliveries: Path, seconds: float, *, start: int, delay_ms: int = 0) -> Run:
    env = {**os.environ, "KANTA_BENCH_START": str(start)}
    if delay_ms:
        env["KANTA_BENCH_DELAY_MS"] = str(delay_ms)
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",  # wrk takes whole seconds only
            "--latency",
            "--timeout=10s",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}",
            "--",
            str(deliveries),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    out = result.stdout

    def number(pattern: str, default: str | None = None) -> str:
        found = re.search(pattern, out)
        if found is None:
            if default is None:
                raise RuntimeError(f"unexpected wrk output:\n{out}\n{result.stderr}")
            return default
        return found.group(1)

    p99, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return Run(
        rate=float(number(r"Requests/sec:\s+([\d.]+)")),
        p99_ms=float(p99) * scale,
        requests=int(number(r"(\d+) requests in")),
        errors=int(number(r"Non-2xx or 3xx responses:\s+(\d+)", "0"))
        + sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
        next_index=int(number(r"next=(\d+)")),
        wrapped=int(number(r"wrapped=(\d+)")),
    )


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not start")


def measure(server: Server, deliveries: Path, seconds: float, *, latency: bool) -> None:
    """Start the server (``{port}`` in its command and ``PORT`` say where), warm it up, then the
    peak and, if ``latency``, the half-load runs; each starts where the one before stopped."""
    port = free_port()
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in server.command],
        cwd=server.cwd,
        env={**os.environ, **server.env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, server.name)
        warm = wrk(port, deliveries, 2, start=server.next_index)
        if server.analyze is not None and not server.peaks:
            analyze_database(server.analyze)
        cpu0 = tree_cpu(process.pid)
        peak = wrk(port, deliveries, seconds, start=warm.next_index)
        cpu = tree_cpu(process.pid) - cpu0
        runs = [warm, peak]
        start = peak.next_index
        if latency:
            target = peak.rate / 2
            period = CONNECTIONS * 1000 / target  # ms between requests on one connection
            pause = period
            for _ in range(3):  # each connection's period is its pause plus the time per request
                run = wrk(port, deliveries, 4, start=start, delay_ms=round(pause))
                runs.append(run)
                start = run.next_index
                if abs(run.rate - target) <= 0.15 * target:
                    break
                busy = CONNECTIONS * 1000 / max(run.rate, 1) - round(pause)
                pause = max(0.0, period - busy)
            server.half = wrk(
                port, deliveries, max(seconds * 0.8, 4), start=start, delay_ms=round(pause)
            )
            runs.append(server.half)
            start = server.half.next_index
        if server.once_only and any(r.wrapped for r in runs):
            raise SystemExit(f"{server.name}: ran out of deliveries; pass a larger --deliveries")
        for run in runs:
            if run.errors:
                print(f"warning: {server.name}: {run.errors} failed requests", file=sys.stderr)
        server.next_index = start
        server.peaks.append(peak)
        server.cpu_ms.append(1000 * cpu / max(peak.requests, 1))
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def gunicorn(target: str, workers: int = WORKERS, threads: int = THREADS) -> list[str]:
    return [
        str(Path(sys.executable).parent / "gunicorn"),
        f"--workers={workers}",
        # As the README deploys a server (sync workers; gunicorn.conf.py): --threads > 1 measures
        # gthread workers instead.
        f"--worker-class={'gthread' if threads > 1 else 'sync'}",
        f"--threads={threads}",
        "--bind=127.0.0.1:{port}",
        "--log-level=warning",
        target,
    ]


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database (libpq URL), dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        base = POSTGRES.replace("+psycopg", "").rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def analyze_database(url: str) -> None:
    """Statistics for the planner, as autovacuum's ANALYZE would gather them (its threshold is
    50 rows and 10 %, checked every minute): the servers' cached plans are made again with them."""
    from sqlalchemy import create_engine, text

    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def prepare_kanta(database_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_APP_URL": "https://kanta.bench",
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        # As in production: after-commit jobs go to Redis (a database of the bench's own, emptied
        # afterwards), for Celery workers that run elsewhere; none runs during the measurement.
        "KANTA_JOBS": "celery",
        "REDIS_URL": BENCH_REDIS,
    }
    flask = str(Path(sys.executable).parent / "flask")
    for args in (
        ["db", "upgrade"],
        ["shops", "install", SHOP, "--access-token", "shpat_bench"],
    ):
        subprocess.run(
            [flask, "--app", "app", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
    return env


def empty_job_queue() -> None:
    """Drop the jobs the Kanta runs queued (no worker consumed them)."""
    import redis

    redis.Redis.from_url(BENCH_REDIS).flushdb()


def install_node(peer: Path, into: Path) -> Path:
    folder = into / "shopify-node"
    shutil.copytree(peer, folder)
    for path in folder.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)  # ../shared is read-only
    folder.chmod(folder.stat().st_mode | 0o200)
    shutil.copy(ROOT / "bench" / "express_hello.js", folder / "express_hello.js")
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=float, default=10, help="seconds of each peak run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of every server's peak (median reported)"
    )
    parser.add_argument("--deliveries", type=int, default=60_000)
    parser.add_argument("--peer", type=Path, default=PEER, help="the Node peer's folder")
    parser.add_argument("--no-node", action="store_true", help="skip Express and the Node peer")
    parser.add_argument(
        "--workers", type=int, default=WORKERS, help="gunicorn workers (Flask, Kanta)"
    )
    parser.add_argument("--threads", type=int, default=THREADS, help="threads per gunicorn worker")
    parser.add_argument(
        "--node-processes", type=int, default=NODE_PROCESSES, help="cluster processes (Node)"
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip the ANALYZE after warm-up (a database the planner knows nothing of)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    with tempfile.TemporaryDirectory() as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        deliveries = tmp / "deliveries.tsv"
        size = write_deliveries(deliveries, args.deliveries)
        print(
            f"{args.deliveries} signed orders/paid deliveries (3 lines, 500 customers), "
            f"mean body {size / 1024:.1f} KB; wrk 1 thread, {CONNECTIONS} connections; "
            f"{args.rounds} rounds of {args.duration:g} s peaks",
            flush=True,
        )
        kanta = gunicorn("app:create_app()", args.workers, args.threads)
        servers = [
            Server(
                "Flask hello-world (same gunicorn)",
                gunicorn("bench.hello:create_app()", args.workers, args.threads),
                {},
                once_only=False,
            )
        ]
        if not args.no_node:
            node_dir = install_node(args.peer, tmp)
            node_env = {"WORKERS": str(args.node_processes)}
            peer_url = stack.enter_context(postgres_database("kanta_bench_peer"))
            servers += [
                Server(
                    f"Express hello-world ({args.node_processes} processes)",
                    ["node", "express_hello.js"],
                    node_env,
                    cwd=node_dir,
                    once_only=False,
                ),
                Server(
                    f"Shopify Node stack, lean ledger ({args.node_processes} processes)",
                    ["node", "peer.js"],
                    {**node_env, "PEER_PG": peer_url, "PEER_SECRET": API_SECRET},
                    cwd=node_dir,
                    analyze=None if args.no_analyze else peer_url,
                ),
            ]
        for db in ["postgresql", "sqlite"] if args.db == "both" else [args.db]:
            if db == "postgresql":
                url = stack.enter_context(postgres_database("kanta_bench"))
                env = prepare_kanta(url.replace("postgresql://", "postgresql+psycopg://", 1))
                analyze = None if args.no_analyze else url
                servers.append(Server("Kanta / PostgreSQL", kanta, env, analyze=analyze))
            else:
                env = prepare_kanta(f"sqlite:///{tmp / 'bench.sqlite3'}")
                servers.append(Server("Kanta / SQLite", kanta, env))
        # Round by round, every server in turn: a slow spell of a shared machine then lowers one
        # round's figures, not one server's, and each round's ratios compare like with like.
        for round_ in range(args.rounds):
            last = round_ == args.rounds - 1
            for server in servers:
                measure(server, deliveries, args.duration, latency=last)
            base = servers[0].peaks[-1].rate
            print(
                f"round {round_ + 1}: "
                + ", ".join(f"{x.name.split(' (')[0]} {x.peaks[-1].rate:,.0f}/s" for x in servers)
                + " | × hello: "
                + ", ".join(f"{x.peaks[-1].rate / base:.2f}" for x in servers[1:]),
                flush=True,
            )

    empty_job_queue()
    print()
    print(
        f"| server | deliveries/s (median of {args.rounds}) | × Flask hello (median; rounds) | "
        "p99 ms at peak | p99 ms at ~half load (rate reached) | server CPU ms/delivery |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    hello = servers[0]
    for x in servers:
        ratios = [run.rate / h.rate for run, h in zip(x.peaks, hello.peaks, strict=True)]
        rounds = "–".join(f"{r:.2f}" for r in (min(ratios), max(ratios)))
        half = (
            f"{x.half.p99_ms:.1f} ({x.half.rate:,.0f}/s = {x.half.rate / x.peaks[-1].rate:.0%})"
            if x.half
            else "–"
        )
        print(
            f"| {x.name} | {median(run.rate for run in x.peaks):,.0f} | "
            f"{median(ratios):.2f} ({rounds}) | {median(run.p99_ms for run in x.peaks):.1f} | "
            f"{half} | {median(x.cpu_ms):.2f} |"
        )
    # The other target: Kanta against the Node peer, round by round (same client, same
    # machine minutes apart), and the ratio of the two medians.
    peer = next((x for x in servers if x.name.startswith("Shopify Node stack")), None)
    if peer is not None:
        print()
        for x in servers:
            if not x.name.startswith("Kanta"):
                continue
            rounds = [run.rate / p.rate for run, p in zip(x.peaks, peer.peaks, strict=True)]
            medians = median(run.rate for run in x.peaks) / median(run.rate for run in peer.peaks)
            print(
                f"{x.name} ÷ the Node peer: {medians:.2f} (medians); rounds "
                + ", ".join(f"{r:.2f}" for r in rounds)
            )


if __name__ == "__main__":
    main()

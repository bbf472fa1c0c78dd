"""Members list benchmark: ``GET /api/admin/members`` at 1,000,000 members, against hello-world.

    python -m bench.members_list [--database-url URL] [--seconds 5] [--connections 4]

The database must have been built by ``python -m bench.seed`` (default: the PostgreSQL database
``kanta_bench_1m``). Kanta and a Flask hello-world run under the same gunicorn configuration and
the same wrk command, in the same run; hello-world is measured before and after, and ratios are to
the mean. Every request carries its own App Bridge admin session token. One wrk run per access
path, each cycling over many different requests:

- the first page, no filter;
- search by a prefix of a first name, last name or email;
- a tier filter;
- deep pages: ``after`` cursors collected by following the list's own pagination first;
- the member page (``/api/admin/members/<id>``: the profile and the latest ledger entries) of
  members picked at random.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.checkout_widget import POSTGRES, sample_members
from bench.seed import API_KEY, API_SECRET, FIRST_NAMES, LAST_NAMES, MAIN_SHOP, server_env
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
from devstore.signing import mint_admin_session_token

LIST_PATH = "/api/admin/members"
TOKENS = 2_000
CURSOR_KEYS = ("next_cursor", "next", "after", "cursor")


def admin_tokens(count: int) -> list[str]:
    return [
        "Bearer " + mint_admin_session_token(MAIN_SHOP, API_KEY, API_SECRET, lifetime=3600)
        for _ in range(count)
    ]


def list_path(**params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{LIST_PATH}?{query}" if query else LIST_PATH


def search_prefixes(rng: random.Random, count: int) -> list[str]:
    """Prefixes a merchant types: 2–5 letters of a first or last name, or an email's start."""
    out = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.4:
            name = rng.choice(FIRST_NAMES)
        elif kind < 0.8:
            name = rng.choice(LAST_NAMES)
        else:
            name = f"{rng.choice(FIRST_NAMES).lower()}.{rng.choice(LAST_NAMES).lower()}"
        out.append(name[: rng.randint(2, min(5, len(name)))])
    return out


def next_cursor(answer: Any) -> str | None:
    """The list's cursor for the next page, wherever the answer keeps it."""
    if not isinstance(answer, dict):
        return None
    for key in CURSOR_KEYS:
        value = answer.get(key)
        if isinstance(value, str) and value:
            return value
    for nested in ("page_info", "pageInfo", "pagination", "page"):
        found = next_cursor(answer.get(nested))
        if found:
            return found
    return None


def deep_page_paths(
    base_url: str, token: str, pages: int, filters: list[dict[str, str]]
) -> list[str]:
    """Follow the pagination from the first page of each filter, ``pages`` pages deep."""
    paths = []
    for params in filters:
        cursor: str | None = None
        for _ in range(pages):
            path = list_path(**params, after=cursor or "")
            status, body = fetch(base_url + path, token)
            if status != 200:
                raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
            cursor = next_cursor(json.loads(body))
            if cursor is None:
                break
            paths.append(list_path(**params, after=cursor))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"{POSTGRES}/kanta_bench_1m")
    parser.add_argument("--seconds", type=int, default=4, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="hello/Kanta pairs per figure")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the workers through one more run per case"
    )
    parser.add_argument("--case", action="append", help="only these cases (repeatable)")
    parser.add_argument("--deep-pages", type=int, default=40, help="pages followed per filter")
    args = parser.parse_args()
    load = WrkLoad(args.threads, args.connections, args.seconds)
    rng = random.Random(3)
    database = sample_members(args.database_url, 5_000)
    tokens = admin_tokens(TOKENS)
    print(machine())
    print(
        f"{load.describe()} × {args.rounds} rounds alternating with hello-world, gunicorn 2 "
        f"sync workers, {database.name}: {database.members:,} members in {MAIN_SHOP}"
    )

    cases: dict[str, Callable[[str], list[str]]] = {
        "first page": lambda _: [LIST_PATH],
        "search prefix": lambda _: [list_path(query=p) for p in search_prefixes(rng, 500)],
        "search first last": lambda _: [
            list_path(query=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)[:3]}")
            for _ in range(300)
        ],
        "search email": lambda _: [
            list_path(query=f"{rng.choice(FIRST_NAMES).lower()}.{rng.choice(LAST_NAMES)[:3]}")
            for _ in range(300)
        ],
        "tier filter": lambda _: [list_path(tier=t) for t in ("bronze", "silver", "gold")],
        "tier + search": lambda _: [
            list_path(tier=rng.choice(("silver", "gold")), query=p)
            for p in search_prefixes(rng, 300)
        ],
        "deep pages": lambda url: deep_page_paths(
            url,
            tokens[0],
            args.deep_pages,
            [{}, {"tier": "gold"}, {"query": "em"}, {"query": "smi"}],
        ),
    }
    member_paths = [f"{LIST_PATH}/{cid}" for cid in database.customer_ids]

    profiles: list[str] = []
    comparisons: list[Comparison] = []
    with tempfile.TemporaryDirectory() as tmp, GunicornServer(HELLO_TARGET, {}) as hello:

        def requests_file(name: str, paths: list[str]) -> Path:
            pairs = [(path, tokens[i % len(tokens)]) for i, path in enumerate(paths)]
            slug = "".join(c if c.isalnum() else "-" for c in name)
            return write_requests(Path(tmp) / f"{slug}.txt", pairs)

        hello_file = requests_file("hello", member_paths)

        def measure(server: GunicornServer, name: str, paths: list[str]) -> None:
            file = requests_file(name.split(" (")[0], paths)
            comparisons.append(
                compare(name, hello.url, hello_file, server.url, file, load, args.rounds)
            )
            if args.profile:
                with Profiler(server, load.seconds, Path(tmp)) as profiler:
                    run_wrk(server.url, file, load, warmup_seconds=0)
                profiles.append(f"{name}:\n{profiler.report()}")

        with GunicornServer(KANTA_TARGET, server_env(database.url)) as kanta:
            status, body = fetch(kanta.url + LIST_PATH, tokens[0])
            if status != 200:
                raise SystemExit(f"{LIST_PATH} answered {status}: {body[:300]!r}")
            print(f"members list: one answer: {body[:300].decode()}…")
            for name, build in cases.items():
                if args.case and name not in args.case:
                    continue
                paths = build(kanta.url)
                if not paths:
                    print(f"{name}: no requests (pagination not found), skipped")
                    continue
                measure(kanta, f"list: {name} ({len(paths)})", paths)
            status, body = fetch(kanta.url + member_paths[0], tokens[0])
            if status != 200:
                raise SystemExit(f"member page answered {status}: {body[:300]!r}")
            measure(kanta, f"member page ({len(member_paths)})", member_paths)
    print(comparison_table(comparisons))
    for profile in profiles:
        print(profile)


if __name__ == "__main__":
    main()

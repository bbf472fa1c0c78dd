"""``python -m bench.seed``: the command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import bench.seed as package

from .builder import build


def main(argv: Sequence[str] | None = None) -> None:
    # The package's docstring documents the generator; its first line describes the command.
    description = (package.__doc__ or "").splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=description)
    parser.add_argument("--members", type=int, required=True, help="members of the main shop")
    parser.add_argument("--entries", type=int, required=True, help="ledger entries of it")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--other-shops", type=int, default=2, help="shops with 5 %% as many")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report = build(args.database_url, args.members, args.entries, args.other_shops, args.seed)
    verb = "built" if report.built_now else "already built"
    print(
        f"{verb}: {report.members:,} members and {report.entries:,} ledger entries in "
        f"{len(report.shops)} shops ({', '.join(report.shops)}); {report.seconds:.1f} s"
    )

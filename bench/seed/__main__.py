"""``python -m bench.seed``: see the package's docstring."""

from bench.seed.cli import main

main()

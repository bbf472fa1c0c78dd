"""Kanta's loyalty program: domain, persistence, Shopify client and the HTTP layers over them.

Layout, one room per responsibility:

- ``loyalty/``   the program's rules as plain Python (no Flask, no SQL): settings, eligible
                 amounts, points arithmetic, tiers.
- ``models.py``  the SQLAlchemy models; ``db.py`` the engine, sessions and transactions.
- ``ledger.py``  the service layer: every change of points goes through one of its functions, in
                 one transaction, as an append-only ledger entry with an idempotency key.
- ``shopify/``   everything that talks to Shopify (token exchange, refresh, Admin GraphQL).
- ``install.py``, ``compliance.py``, ``jobs.py``, ``cli.py``  the use cases around the ledger.
- ``admin_api.py``, ``app_home.py``  thin HTTP blueprints.
"""

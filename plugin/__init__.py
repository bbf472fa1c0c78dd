"""Kanta's loyalty program: domain, persistence, Shopify client and the HTTP layers over them.

Layout, one room per responsibility:

- ``loyalty/``   the program's rules as plain Python (no Flask, no SQL): settings, eligible
                 amounts, points arithmetic, tiers.
- ``models/``    the SQLAlchemy models; ``db.py`` the engine, sessions and transactions.
- ``ledger/``    the service layer: every change of points goes through one of its functions, in
                 the caller's transaction, as an append-only ledger entry with an idempotency key.
- ``shopify/``   everything that talks to Shopify (token exchange, refresh, Admin GraphQL).
- ``install.py``, ``compliance.py``, ``jobs/``, ``cli.py``  the use cases around the ledger.
- ``admin/``     the merchant's embedded admin: the app home and the admin JSON API (thin HTTP).

The webhook intake (verify, dedupe, the topic → handler map) is the top-level ``webhooks/``.
"""

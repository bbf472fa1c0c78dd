"""The loyalty program's rules as plain Python: no Flask, no HTTP, no SQL.

Everything here is a pure function of its arguments, so it can be reasoned about and tested
directly: ``program`` (validated settings), ``orders`` (what of an order earns), ``points`` (the
arithmetic of awards and reversals) and ``tiers``.
"""

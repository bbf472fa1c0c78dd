"""Build a large benchmark database: shops, members, orders and ledger entries, on the real schema.

    python -m bench.seed --members 1000000 --entries 20000000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kanta_bench_1m

The schema comes from the Alembic migrations. The first shop (``bench-1.myshopify.com``, the one
the benchmarks measure) gets ``--members`` members and ``--entries`` ledger entries; each of the
``--other-shops`` gets 5 % as many, so every query the benchmarks time must be narrowed by a
per-shop index. Data is realistic enough to exercise the real access paths: names and emails drawn
from common names, skewed activity (a few members with hundreds of entries, many with two or
three), a welcome bonus, orders with the payment method and delivery option checkout showed,
awards held pending for 14 days then released, some refunds reversing points, a few adjustments,
marketing consent, the payment and delivery each member usually picks (learned from their last
five orders, as the app learns them) and, for 1 in 20, an explicit choice. Every customer's
projections (balance, pending, tier points, tier) equal the sums of their entries, so
``flask --app app ledger verify`` passes. Explicit choices and learned preferences are written
once the schema has them (migration 0010, the checkout branch); a re-run adds them to a database
built before.

Loading is bulk: PostgreSQL ``COPY`` (foreign-key triggers off for the loading session),
SQLite ``executemany`` with a large cache. The secondary indexes of the three big tables are
dropped while loading and rebuilt from their saved definitions afterwards. Members are built in
chunks, each committed with its entries and orders and recorded in ``bench_seed_state``: an
interrupted run resumes at the next chunk, and a finished database is recognised at once and left
as it is (a different size asks for another database).
"""

# One module per concern, in the order a build uses them: config (parameters, credentials),
# vocabulary (what members are drawn from), plan (shops and chunks), rows (columns and values),
# members (who each member is, their rows), history (one member's events, one function each),
# database, state, indexes, shops, loading, preferences, progress, builder (the build itself)
# and cli (``python -m bench.seed``). Everything other code used from the single module this
# once was is importable from here.

from __future__ import annotations

from .builder import BuildReport, build
from .cli import main
from .config import (
    API_KEY,
    API_SECRET,
    BIG_TABLES,
    CHUNK_MEMBERS,
    HISTORY_DAYS,
    LOADED_TABLES,
    MAIN_SHOP,
    MAX_ENTRIES_PER_MEMBER,
    OTHER_SHOP_SHARE,
    PENDING_DAYS,
    SHOPIFY_CUSTOMER_BASE,
    SHOPIFY_ORDER_BASE,
    SHOPIFY_REFUND_BASE,
    TOKEN_ENCRYPTION_KEY,
    server_env,
)
from .database import ensure_database, migrate
from .history import CENT
from .indexes import drop_index, secondary_indexes
from .loading import Loader, bulk_engine
from .members import build_chunk, build_member, entry_counts
from .plan import ShopPlan, plan_shops
from .preferences import CHOSEN_PREFERENCE, LEARNED_PREFERENCE
from .progress import ProgressBar
from .rows import (
    CUSTOMER_COLUMNS,
    LEDGER_COLUMNS,
    ORDER_COLUMNS,
    REFUNDED_ELIGIBLE,
    REVERSED_POINTS,
    Encoder,
    MemberRows,
    Row,
)
from .shops import create_shops
from .state import STATE_TABLE, read_state, write_state
from .vocabulary import DELIVERIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, PAYMENTS

__all__ = [
    "API_KEY",
    "API_SECRET",
    "BIG_TABLES",
    "CENT",
    "CHOSEN_PREFERENCE",
    "CHUNK_MEMBERS",
    "CUSTOMER_COLUMNS",
    "DELIVERIES",
    "EMAIL_DOMAINS",
    "FIRST_NAMES",
    "HISTORY_DAYS",
    "LAST_NAMES",
    "LEARNED_PREFERENCE",
    "LEDGER_COLUMNS",
    "LOADED_TABLES",
    "MAIN_SHOP",
    "MAX_ENTRIES_PER_MEMBER",
    "ORDER_COLUMNS",
    "OTHER_SHOP_SHARE",
    "PAYMENTS",
    "PENDING_DAYS",
    "REFUNDED_ELIGIBLE",
    "REVERSED_POINTS",
    "SHOPIFY_CUSTOMER_BASE",
    "SHOPIFY_ORDER_BASE",
    "SHOPIFY_REFUND_BASE",
    "STATE_TABLE",
    "TOKEN_ENCRYPTION_KEY",
    "BuildReport",
    "Encoder",
    "Loader",
    "MemberRows",
    "ProgressBar",
    "Row",
    "ShopPlan",
    "build",
    "build_chunk",
    "build_member",
    "bulk_engine",
    "create_shops",
    "drop_index",
    "ensure_database",
    "entry_counts",
    "main",
    "migrate",
    "plan_shops",
    "read_state",
    "secondary_indexes",
    "server_env",
    "write_state",
]

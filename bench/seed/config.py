"""The fixed parameters of the generated data, and the credentials the benchmarks serve it
with."""

MAIN_SHOP = "bench-1.myshopify.com"
# Encrypts the shops' placeholder Admin API tokens; the benchmarks' servers use the same key.
# Not a secret: these databases hold generated data only.
TOKEN_ENCRYPTION_KEY = "YmVuY2gtb25seS1ub3QtYS1zZWNyZXQtMDEyMzQ1Njc="
# The app credentials the benchmarks serve these databases with (their tokens are signed with it).
API_KEY = "bench-api-key"
API_SECRET = "bench-api-secret-0123456789abcdef0123456789"
OTHER_SHOP_SHARE = 0.05
CHUNK_MEMBERS = 10_000
PENDING_DAYS = 14
HISTORY_DAYS = 730
MAX_ENTRIES_PER_MEMBER = 5_000
# The tables whose secondary indexes are dropped while loading; and all the tables loaded.
BIG_TABLES = ("customers", "orders", "ledger_entries")
LOADED_TABLES = (*BIG_TABLES, "customer_preferences")

SHOPIFY_CUSTOMER_BASE = 7_000_000_000_000
SHOPIFY_ORDER_BASE = 5_000_000_000_000
SHOPIFY_REFUND_BASE = 9_000_000_000_000


def server_env(database_url: str) -> dict[str, str]:
    """The environment Kanta runs with against a database this package built."""
    return {
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_APP_URL": "https://kanta.bench",
        "TOKEN_ENCRYPTION_KEY": TOKEN_ENCRYPTION_KEY,
        "DATABASE_URL": database_url,
    }

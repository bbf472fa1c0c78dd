"""The points ledger: every change of points goes through a function of this package.

Each function works inside the caller's transaction (one unit of work per webhook, job or API
call) and appends ledger entries with an idempotency key unique per shop, updating the
customer's projections (balance, pending, tier points, tier) in the same transaction.

Order events may arrive in any order and any number of times. Each is recorded once in
``order_events`` (unique on its source), then the order is *settled*: whatever its recorded
events call for and the ledger does not have yet is appended, in arrival order. A refund or
edit that comes before the award waits and is applied right after it, and every step is
cumulative against the award's snapshot (``loyalty.settlement``), so every interleaving and
duplication of an order's events ends in the same balance. A step that moves no points writes
no entry.

Lock order — every writer follows it: the shop's row is held first (``FOR KEY SHARE``: by the
intake as it reads the shop, by every other writer with ``hold_shop``, which the locks below
call themselves;
shop/redact locks it ``FOR UPDATE`` before deleting the shop's rows), then the order row is
locked (``SELECT … FOR UPDATE``, or the row lock of an upsert, on PostgreSQL; SQLite serialises
writers), then the customer's later orders that a late delivery may correct (``tiers``, in id
order), then the customer row.
Nothing locks them the other way round: ``lock_order``, ``lock_customer`` and
``lock_customer_by_pk`` hold the shop first (once a transaction; the intake tells them it
already does with ``shop_held``; a writer that touches other rows of the shop's before them
holds it itself), the daily release locks all its orders before any customer,
the other jobs and the merchant's adjustments lock customers only, and ``customers/redact``
locks the customer's orders before the customer.

Modules, one concern each:

- ``entries``: appending one entry and moving the customer's projections (``append``);
- ``locks``: lock-or-create the order and customer rows, in the order above;
- ``facts``: what an order event keeps of its payload;
- ``orders``: recording order and refund events, settling an order;
- ``awards``: the award of an order (and the welcome bonus of auto-enrolment), its reversals on
  refunds and cancellation;
- ``edits``: edits and exchanges after payment (units removed, lines added);
- ``members``: the merchant's adjustments, joining the program and the welcome bonus;
- ``redemptions``: points reserved for a reward, given back when Shopify does not issue it
  (the shop's row, the customer's, then the redemption's);
- ``schedule``: the daily jobs (pending release, expiry, tier ageing);
- ``tiers``: the tier an order is processed at, and corrections when a late delivery changes it;
- ``verify``: re-summing the ledger against the projections;
- ``rederive``: re-deriving each order's points from its stored events (``ledger verify``).
- ``imports``: balances imported from another loyalty app, in bulk (kind ``import``; its lock
  order: customers only, like adjustments).
"""

from __future__ import annotations

from .entries import Change, LedgerError, append, entry_by_key, program_of
from .locks import (
    hold_shop,
    lock_customer,
    lock_customer_by_pk,
    lock_order,
    shop_held,
    suppression_key,
)
from .members import adjust_points, join_program
from .orders import (
    ORDER_EVENT_KINDS,
    record_order,
    record_order_edit,
    record_refund,
    settle_order,
)
from .redemptions import (
    KeyReused,
    NotEnoughPoints,
    mark_issued,
    mark_unknown,
    redemption_answer,
    redemption_by_key,
    refund_points,
    reserve_points,
)
from .rederive import OrderMismatch, verify_orders
from .schedule import expire_inactive_points, refresh_tiers, release_pending_points
from .verify import Mismatch, verify_ledger

__all__ = [
    "ORDER_EVENT_KINDS",
    "Change",
    "KeyReused",
    "LedgerError",
    "Mismatch",
    "NotEnoughPoints",
    "OrderMismatch",
    "adjust_points",
    "append",
    "entry_by_key",
    "expire_inactive_points",
    "hold_shop",
    "join_program",
    "lock_customer",
    "lock_customer_by_pk",
    "lock_order",
    "mark_issued",
    "mark_unknown",
    "program_of",
    "record_order",
    "record_order_edit",
    "record_refund",
    "redemption_answer",
    "redemption_by_key",
    "refund_points",
    "refresh_tiers",
    "release_pending_points",
    "reserve_points",
    "settle_order",
    "shop_held",
    "suppression_key",
    "verify_ledger",
    "verify_orders",
]

"""The background job of a balance import: check every row, then write them all or none.

Phases, visible to the merchant through the import's row: ``validating`` (each batch of rows
looked up moves ``processed``, in its own short transaction — progress is not data), then
``writing`` (one transaction: every customer, entry and projection, or nothing), then ``done``
or ``failed`` with the per-row errors. The file itself is dropped once the job is over: it holds
emails.

At least once: the job locks the import's row and does nothing if it is already done or
failed, so a redelivered Celery task (or a double enqueue) imports once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from . import job

if TYPE_CHECKING:
    from ..runtime import Kanta

log = logging.getLogger(__name__)

FINISHED = ("done", "failed")


@job("import_balances")
def run_balance_import(kanta: Kanta, import_id: int) -> str:
    from ..admin.imports import ImportFileError, parse_balances, resolve_customers
    from ..ledger import hold_shop, program_of
    from ..ledger.imports import ImportConflict, ImportedBalance, import_balances
    from ..models import BalanceImport, Shop

    with kanta.db.transaction() as session:
        record = session.scalars(
            select(BalanceImport).where(BalanceImport.id == import_id).with_for_update()
        ).one_or_none()
        if record is None or record.status in FINISHED or record.csv_text is None:
            return record.status if record is not None else "missing"
        record.status, record.started_at, record.processed = "validating", kanta.now(), 0
        text, shop_id = record.csv_text, record.shop_id

    def finish(status: str, errors: list[dict[str, Any]], **values: Any) -> str:
        with kanta.db.transaction() as session:
            session.execute(
                update(BalanceImport)
                .where(BalanceImport.id == import_id)
                .values(
                    status=status,
                    errors=errors,
                    csv_text=None,
                    finished_at=kanta.now(),
                    **values,
                )
            )
        return status

    def progress(done: int) -> None:
        with kanta.db.transaction() as session:
            session.execute(
                update(BalanceImport).where(BalanceImport.id == import_id).values(processed=done)
            )

    try:
        # A file of 100,000 rows is one bulk read and one bulk write, each past the 2 s bound
        # of a request's statements: both run as the long jobs they are.
        with kanta.db.read(long_running=True) as session:
            shop = session.get(Shop, shop_id)
            if shop is None or not shop.is_installed:
                return finish("failed", [{"line": 0, "field": "file", "message": "not installed"}])
            program = program_of(shop)
            try:
                plan = parse_balances(text, program)
            except ImportFileError as error:
                return finish("failed", [{"line": 0, "field": "file", "message": str(error)}])
            total = len(plan.rows) + plan.error_count
            if not plan.error_count:
                resolve_customers(session, shop, program, plan, progress)
        if plan.error_count:
            return finish("failed", plan.errors, total=total, processed=total)
        rows = [
            ImportedBalance(
                r.line, r.points, r.tier_points, r.tier_key, r.customer_pk, r.shopify_customer_id
            )
            for r in plan.rows
        ]
        with kanta.db.transaction() as session:
            session.execute(
                update(BalanceImport)
                .where(BalanceImport.id == import_id, BalanceImport.status.not_in(FINISHED))
                .values(status="writing", total=total, processed=total)
            )
        with kanta.db.transaction(long_running=True) as session:
            record = session.scalars(
                select(BalanceImport).where(BalanceImport.id == import_id).with_for_update()
            ).one()
            if record.status in FINISHED:
                return record.status  # another delivery of this job finished it meanwhile
            shop = session.get(Shop, shop_id)
            assert shop is not None
            hold_shop(session, shop)
            written = import_balances(session, shop, program, import_id, rows, kanta.now())
            record.status, record.finished_at, record.csv_text = "done", kanta.now(), None
            record.imported, record.points_total = written, plan.points_total
            record.errors = []
        return "done"
    except ImportConflict as error:
        return finish("failed", [{"line": 0, "field": "file", "message": str(error)}])
    except Exception:  # the write rolled back: say so, keep the details for us
        log.exception("balance import %s failed", import_id)
        return finish(
            "failed",
            [{"line": 0, "field": "file", "message": "internal error: nothing was imported"}],
        )

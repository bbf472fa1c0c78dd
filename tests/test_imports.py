"""Importing balances from another loyalty app: preview, job, progress, all or nothing, once."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from devstore.payloads import build_customers_redact
from plugin.jobs.balance_import import run_balance_import
from plugin.ledger import verify_ledger
from plugin.models import BalanceImport, Customer, LedgerEntry, Shop
from tests.conftest import OTHER_SHOP, SHOP, install_shop
from tests.story import Shopper, line
from tests.test_member_api import bearer

ADA = 82_000_000_000_000_001
BEA = 82_000_000_000_000_002
NEW = 82_000_000_000_000_099


def post_csv(client: FlaskClient, body: str | bytes, *, dry_run: bool = False, shop: str = SHOP):
    url = "/api/admin/imports" + ("?dry_run=1" if dry_run else "")
    data = body.encode() if isinstance(body, str) else body
    return client.post(url, data=data, headers={**bearer(shop), "Content-Type": "text/csv"})


def counts(app: Flask) -> tuple[int, int, int, int]:
    """(customers, ledger entries, imports, sum of balances) across every shop."""
    with app.extensions["kanta"].db.read() as session:
        return (
            session.scalar(select(func.count(Customer.id))) or 0,
            session.scalar(select(func.count(LedgerEntry.id))) or 0,
            session.scalar(select(func.count(BalanceImport.id))) or 0,
            int(session.scalar(select(func.coalesce(func.sum(Customer.points_balance), 0)))),
        )


@pytest.fixture
def customers(app: Flask, client: FlaskClient, shop: int) -> tuple[Shopper, Shopper]:
    """Ada (10 points from an order) and Bea (20), both known to the shop."""
    ada = Shopper(app, client, customer_id=ADA, email="ada@example.com")
    bea = Shopper(app, client, customer_id=BEA, email="bea@example.com")
    ada.pays(ada.order(line("Lamp", "10.00")))
    bea.pays(bea.order(line("Lamp", "20.00")))
    return ada, bea


GOOD = (
    "Email Address,Customer ID,Points Balance,VIP Tier\n"
    "ada@example.com,,1200,Silver\n"
    f",{BEA},300,\n"
    f",{NEW},50,gold\n"
)


def test_a_dry_run_previews_rows_and_errors_and_writes_nothing(
    app: Flask, client: FlaskClient, customers: Any
) -> None:
    before = counts(app)
    body = (
        "email,points,tier\n"
        "ada@example.com,1200,Silver\n"
        "nobody@example.com,5,\n"  # line 3: no such customer
        "bea@example.com,-4,\n"  # line 4: negative
        "not-an-email,5,\n"  # line 5
        "ada@example.com,7,\n"  # line 6: twice
        "bea@example.com,9,Platinum\n"  # line 7: no such tier
    )
    response = post_csv(client, body, dry_run=True)
    assert response.status_code == 200
    result = response.get_json()
    assert result["dry_run"] is True
    assert [(e["line"], e["field"]) for e in result["errors"]] == [
        (4, "points"),
        (5, "email"),
        (6, "email"),
        (7, "tier"),
    ]  # format problems first; customer lookups only run on a file without them
    assert counts(app) == before

    clean = post_csv(
        client, "email,points\nada@example.com,1200\nnobody@example.com,5\n", dry_run=True
    )
    assert [(e["line"], e["field"]) for e in clean.get_json()["errors"]] == [(3, "email")]
    preview = post_csv(client, GOOD, dry_run=True).get_json()
    assert preview["error_count"] == 0
    assert (preview["valid"], preview["new_customers"], preview["points_total"]) == (3, 1, 1550)
    assert preview["preview"][0] == {
        "line": 2,
        "customer_id": None,
        "email": "ada@example.com",
        "points": 1200,
        "tier": "silver",
    }
    assert counts(app) == before


def test_an_import_runs_as_a_job_and_each_balance_is_a_ledger_entry(
    app: Flask, client: FlaskClient, customers: Any
) -> None:
    ada, bea = customers
    response = post_csv(client, GOOD)
    assert response.status_code == 202
    import_id = response.get_json()["id"]
    status = client.get(f"/api/admin/imports/{import_id}", headers=bearer()).get_json()
    assert (status["status"], status["processed"], status["total"]) == ("done", 3, 3)
    assert (status["imported"], status["points_total"], status["errors"]) == (3, 1550, [])

    assert ada.points == 10 + 1200
    assert ada.tier == "silver"  # 10 tier points from the order + 490 imported = 500
    assert ada.ledger()[-1] == ("import", 1200, 0)
    assert bea.points == 20 + 300
    assert bea.tier == "bronze"
    newcomer = Shopper(app, client, customer_id=NEW)
    assert newcomer.state() == {
        "member": True,
        "points": 50,
        "pending": 0,
        "tier_points": 1500,
        "tier": "gold",
    }
    entry = newcomer.entries()[0]
    assert (entry.kind, entry.idempotency_key) == ("import", f"import:{import_id}:4")
    with app.extensions["kanta"].db.read() as session:
        assert verify_ledger(session, session.scalars(select(Shop)).all()) == []
        record = session.get(BalanceImport, int(import_id))
        assert record is not None
        assert record.csv_text is None  # the file (emails) is not kept once imported
    listed = client.get("/api/admin/imports", headers=bearer()).get_json()["imports"]
    assert [i["id"] for i in listed] == [import_id]


def test_a_redelivered_job_imports_once(app: Flask, client: FlaskClient, customers: Any) -> None:
    ada, _ = customers
    import_id = int(post_csv(client, GOOD).get_json()["id"])
    before = counts(app)
    assert run_balance_import(app.extensions["kanta"], import_id=import_id) == "done"
    assert counts(app) == before
    assert ada.points == 1210


def test_one_bad_row_found_by_the_job_leaves_nothing_imported(
    app: Flask, client: FlaskClient, customers: Any
) -> None:
    before = counts(app)
    body = f"customer_id,email,points\n{ADA},,100\n,nobody@example.com,5\n{NEW},,7\n"
    response = post_csv(client, body)
    assert response.status_code == 202  # the file reads; the lookup fails in the job
    status = client.get(f"/api/admin/imports/{response.get_json()['id']}", headers=bearer())
    assert status.get_json()["status"] == "failed"
    assert status.get_json()["errors"] == [
        {"line": 3, "field": "email", "message": "no customer of this shop has this email"}
    ]
    customers_, entries, imports, balances = counts(app)
    assert (customers_, entries, balances) == (before[0], before[1], before[3])
    assert imports == before[2] + 1


def test_a_failure_while_writing_rolls_every_row_back(
    app: Flask, client: FlaskClient, customers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import plugin.ledger.imports as ledger_imports

    real = ledger_imports.import_balances

    def write_then_fail(*args: Any, **kwargs: Any) -> int:
        real(*args, **kwargs)  # every row written in the transaction …
        raise RuntimeError("the database went away")  # … and then the unit of work fails

    monkeypatch.setattr(ledger_imports, "import_balances", write_then_fail)
    before = counts(app)
    response = post_csv(client, GOOD)
    status = client.get(f"/api/admin/imports/{response.get_json()['id']}", headers=bearer())
    assert status.get_json()["status"] == "failed"
    assert "nothing was imported" in status.get_json()["errors"][0]["message"]
    assert counts(app)[:2] == before[:2]
    assert counts(app)[3] == before[3]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "empty"),
        ("email,tier\nada@example.com,gold\n", "points"),
        ("points\n5\n", "customer_id"),
        ("email,points\n", "no rows"),
        (b"email,points\n\xff\xfe,5\n", "UTF-8"),
        ("email,points\nada@example.com,12.5\n", "some rows"),
    ],
)
def test_unreadable_files_are_refused_with_422_and_nothing_is_written(
    app: Flask, client: FlaskClient, customers: Any, body: str | bytes, message: str
) -> None:
    before = counts(app)
    for dry_run in (False, True):
        response = post_csv(client, body, dry_run=dry_run)
        if dry_run and message == "some rows":
            assert response.status_code == 200  # a preview lists the row errors
            assert response.get_json()["error_count"] == 1
            continue
        assert response.status_code == 422
        assert message in response.get_json()["error"]
    assert counts(app) == before


def test_an_erased_customer_is_not_brought_back_by_an_import(
    app: Flask, client: FlaskClient, customers: Any
) -> None:
    from tests.conftest import post_webhook

    payload = build_customers_redact(
        shop_id=1,
        shop_domain=SHOP,
        customer_id=BEA,
        email="bea@example.com",
        orders_to_redact=[],
    )
    assert post_webhook(client, "customers/redact", payload).status_code == 200
    before = counts(app)
    response = post_csv(client, f"customer_id,points\n{BEA},500\n")
    status = client.get(f"/api/admin/imports/{response.get_json()['id']}", headers=bearer())
    assert status.get_json()["errors"][0]["message"] == "this customer's data was erased"
    assert counts(app)[:2] == before[:2]


def test_one_shop_never_sees_nor_changes_another_shops_imports(
    app: Flask, client: FlaskClient, customers: Any
) -> None:
    ada, _ = customers
    install_shop(app, OTHER_SHOP)
    mine = post_csv(client, GOOD).get_json()["id"]
    other = client.get(f"/api/admin/imports/{mine}", headers=bearer(OTHER_SHOP))
    assert other.status_code == 404
    assert client.get("/api/admin/imports", headers=bearer(OTHER_SHOP)).get_json() == {
        "imports": []
    }
    # Ada's email means nothing in the other shop; her id there is another customer row.
    theirs = post_csv(client, "email,points\nada@example.com,999\n", shop=OTHER_SHOP)
    assert theirs.status_code == 202
    assert ada.points == 1210
    by_id = post_csv(client, f"customer_id,points\n{ADA},999\n", shop=OTHER_SHOP)
    assert by_id.status_code == 202
    assert ada.points == 1210  # this shop's Ada is untouched


def test_imports_need_an_admin_session_and_real_ids(client: FlaskClient, shop: int) -> None:
    assert client.post("/api/admin/imports", data="email,points\n").status_code == 401
    assert client.get("/api/admin/imports/1").status_code == 401
    for bad in ("abc", "0", "٣", str(2**63)):
        assert client.get(f"/api/admin/imports/{bad}", headers=bearer()).status_code == 404


@pytest.mark.postgres_only
def test_a_large_file_is_not_held_to_a_requests_database_bound(
    make_app: Any, database_url: str
) -> None:
    """The job's bulk statements take longer than a request may wait on the database
    (``KANTA_DB_TIMEOUT``): a 100,000-row file failed with "the database did not answer" at the
    default 2 s. Here the bound is 0.1 s and the file 20,000 rows."""
    from tests.conftest import test_env

    app = make_app(env=test_env(database_url, KANTA_DB_TIMEOUT="0.1"))
    install_shop(app)
    client = app.test_client()
    rows = "".join(f",{NEW + i},{10 + i % 7},\n" for i in range(20_000))
    answer = post_csv(client, "Email Address,Customer ID,Points Balance,VIP Tier\n" + rows)
    assert answer.status_code == 202, answer.get_json()
    import_id = int(answer.get_json()["id"])
    with app.extensions["kanta"].db.read() as session:
        record = session.get(BalanceImport, import_id)
        assert record is not None
        assert (record.status, record.imported) == ("done", 20_000)
    assert counts(app)[1] == 20_000

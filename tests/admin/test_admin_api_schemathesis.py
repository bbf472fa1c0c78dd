"""Property-based tests of the whole admin API through its own OpenAPI document (schemathesis):
for generated requests to every operation, with a valid session token, no answer is a 5xx or a
stack trace, every answer conforms to the document, and a 4xx leaves the database as it was."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)
from sqlalchemy import select

from plugin.admin import api_modules
from plugin.admin.openapi import build_openapi
from plugin.models import Customer, LedgerEntry, ProgramChange, Reward, Shop
from tests.admin.conftest import add_member, bearer
from tests.conftest import OTHER_SHOP, install_shop

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def seeded(app: Flask) -> Flask:
    shop = install_shop(app)
    other = install_shop(app, OTHER_SHOP)
    k = app.extensions["kanta"]
    for n in range(1, 4):
        add_member(k, shop, n, f"member{n}@example.com", first_name=f"M{n}", points_balance=100 * n)
    add_member(k, other, 4, "theirs@example.com")
    with k.db.transaction() as session:
        session.add(
            Reward(
                shop_id=shop, title="5 off", points_cost=500, reward_type="fixed_amount", value=5
            )
        )
    return app


def snapshot(app: Flask) -> tuple[Any, ...]:
    """Every row the admin API can write, in a comparable form."""
    with app.extensions["kanta"].db.read() as session:
        return (
            [
                (s.id, s.program, s.program_updated_at)
                for s in session.scalars(select(Shop).order_by(Shop.id))
            ],
            session.execute(
                select(
                    Reward.id, Reward.title, Reward.points_cost, Reward.value, Reward.active
                ).order_by(Reward.id)
            ).all(),
            session.execute(
                select(LedgerEntry.id, LedgerEntry.points).order_by(LedgerEntry.id)
            ).all(),
            session.execute(select(ProgramChange.id).order_by(ProgramChange.id)).all(),
            session.execute(
                select(Customer.id, Customer.points_balance).order_by(Customer.id)
            ).all(),
        )


# The document the app serves (test_openapi checks the served one is this one).
schema = schemathesis.openapi.from_dict(build_openapi(api_modules()))


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_admin_api_against_its_openapi_document(case: Any, seeded: Flask) -> None:
    app = seeded
    case.operation.schema.app = app  # calls go to this app over WSGI, in-process
    before = snapshot(app)
    response = case.call(headers=bearer(), app=app)
    body = response.text
    assert response.status_code < 500, body[:500]
    assert "Traceback" not in body
    # ignored_auth would re-send the call with the same (valid) token we pass explicitly;
    # refusals of missing, forged and expired tokens are tested in test_member_api.py.
    # positive_data_acceptance expects every schema-valid value to be accepted, but some
    # validity is per shop and per moment (a tier key of this program, a cursor we gave out,
    # a reward id of this shop): those answer a documented 4xx, and must write nothing.
    # negative_data_rejection wants unknown query parameters refused; like most HTTP APIs this
    # one ignores them (and what it does with known ones is checked above).
    case.validate_response(
        response,
        excluded_checks=[ignored_auth, positive_data_acceptance, negative_data_rejection],
    )
    if 400 <= response.status_code < 500:
        assert snapshot(app) == before, (case.method, case.path, response.status_code)

"""The widget's hot read when PostgreSQL stalls, refuses or drops its connection, through the
TCP proxy of tests/harness.py: a 5xx within the same bound as the webhook route
(tests/test_db_faults.py), never a hang, and answers again as soon as the database does."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from devstore.signing import mint_checkout_session_token
from tests.conftest import API_KEY, API_SECRET, SHOP, install_shop, test_env
from tests.harness import TcpProxy, tcp_proxy
from tests.test_db_faults import FAST_ENOUGH, bounded

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    url = make_url(postgres_url)
    with tcp_proxy((url.host or "127.0.0.1", url.port or 5432)) as p:
        yield p


@pytest.fixture
def widget_app(make_app: Callable[..., Flask], postgres_url: str, proxy: TcpProxy) -> Flask:
    through_proxy = make_url(postgres_url).set(port=proxy.port)
    app = make_app(env=test_env(through_proxy.render_as_string(hide_password=False)))
    install_shop(app)
    return app


def widget_get(app: Flask, customer_id: int) -> tuple[int, dict[str, str], str]:
    token = mint_checkout_session_token(SHOP, API_KEY, API_SECRET, customer_id=customer_id)
    response = app.test_client().get(
        "/api/checkout/loyalty?subtotal=10.00", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, dict(response.headers), response.get_data(as_text=True)


@pytest.mark.parametrize("fault", ["stall", "refuse"])
def test_a_database_fault_is_a_fast_5xx_on_the_widget_then_it_answers_again(
    widget_app: Flask, proxy: TcpProxy, fault: str
) -> None:
    # The shop is read (and cached) first: the fault then meets the customer's own read.
    assert widget_get(widget_app, 1)[0] == 200

    proxy.set_mode(fault)
    for customer_id in (2, 3):  # each a customer not cached yet
        (status, headers, body), seconds = bounded(lambda c=customer_id: widget_get(widget_app, c))
        assert status >= 500, body
        assert seconds < FAST_ENOUGH
        assert "Traceback" not in body
        assert headers["Access-Control-Allow-Origin"] == "*"  # the widget can read the error

    proxy.set_mode("forward")
    assert [widget_get(widget_app, c)[0] for c in (2, 3, 4)] == [200, 200, 200]


def test_a_dropped_connection_under_the_customer_read_is_retried_not_a_5xx(
    widget_app: Flask, proxy: TcpProxy
) -> None:
    """The read engine has no pre-ping: a pooled connection that died (the proxy resets it, as a
    restarted server does) is found dead by the customer's read itself, which runs once more."""
    assert widget_get(widget_app, 1)[0] == 200
    proxy.set_mode("refuse")  # resets every open connection…
    proxy.set_mode("forward")  # …and accepts new ones again
    status, _headers, body = widget_get(widget_app, 2)
    assert status == 200, body

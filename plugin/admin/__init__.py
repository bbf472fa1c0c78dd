"""The merchant's side of Kanta, embedded in the Shopify admin: pages and the admin API.

One module per page or API, each a blueprint; the API modules also describe themselves for the
OpenAPI document (``OPENAPI_PATHS``, optional ``OPENAPI_SCHEMAS``; see ``openapi``):

- ``home``: the app home ``/``, first contact, the patch-ID-token page, ``/healthz``;
- ``program``: ``/program`` and ``GET``/``PUT /api/admin/program`` (with its audit trail);
- ``members``: ``/members`` and ``GET /api/admin/members`` (search, tier filter, keyset pages);
- ``member``: ``/members/<id>``, ``GET /api/admin/members/<id>``, adjustments;
- ``data_requests``: the ``customers/data_request`` exports;
- ``embedded``: how a document request is verified and a page rendered (the layout, the nav);
- ``openapi``: ``GET /api/admin/openapi.json``.
"""

from __future__ import annotations

from types import ModuleType

from flask import Flask


def api_modules() -> tuple[ModuleType, ...]:
    """The modules whose OPENAPI_PATHS make up /api/admin/openapi.json (add yours here)."""
    from . import data_requests, member, members, program

    return (program, members, member, data_requests)


def register_admin(app: Flask) -> None:
    from . import data_requests, home, member, members, openapi, program

    for module in (home, program, members, member, data_requests, openapi):
        app.register_blueprint(module.bp)

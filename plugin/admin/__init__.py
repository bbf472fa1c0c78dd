"""The merchant's side of Kanta, embedded in the Shopify admin: pages and the admin API.

One module per page or API, each a blueprint; the API modules also describe themselves for the
OpenAPI document (``OPENAPI_PATHS``, optional ``OPENAPI_SCHEMAS``; see ``openapi``):

- ``home``: the app home ``/``, first contact, the patch-ID-token page, ``/healthz``;
- ``program``: ``/program`` and ``GET``/``PUT /api/admin/program`` (with its audit trail);
- ``members``: ``/members`` and ``GET /api/admin/members`` (search, tier filter, keyset pages:
  ``members_query``);
- ``member``: ``/members/<id>``, ``GET /api/admin/members/<id>``, adjustments;
- ``analytics_page``: ``/analytics`` and ``GET /api/admin/analytics`` (figures: ``analytics``);
- ``segments_page``: ``/segments``, ``/api/admin/segments/…`` (filters and export: ``segments``);
- ``import_page``: ``/import`` and ``/api/admin/imports`` (reading the file: ``imports``);
- ``data_requests``: the ``customers/data_request`` exports (``data_requests_page``: its page);
- ``embedded``: how a document request is verified and a page rendered (the layout, the nav);
- ``openapi``: ``GET /api/admin/openapi.json``.

Adding a page (say ``analytics``): a module with ``bp = Blueprint(...)``, a view
``@bp.get("/analytics") @embedded_page def page(page: AdminPage) -> str`` returning
``render_page("analytics.html", page, active="/analytics", ...)`` (its template extends
``base.html`` and imports ``_polaris.html`` as ``ui``), the JSON API next to it with
``admin_caller()`` + ``installed_shop()`` and an ``OPENAPI_PATHS`` fragment (``openapi.secured``,
``openapi.json_response``); then list the module in ``register_admin`` and ``api_modules``. The
nav (``embedded.NAV``) already links Analytics, Segments, Import and Data requests.
"""

from __future__ import annotations

from types import ModuleType

from flask import Flask


def api_modules() -> tuple[ModuleType, ...]:
    """The modules whose OPENAPI_PATHS make up /api/admin/openapi.json (add yours here)."""
    from . import (
        analytics_page,
        data_requests,
        import_page,
        member,
        members,
        program,
        segments_page,
    )

    return (program, members, member, analytics_page, segments_page, import_page, data_requests)


def register_admin(app: Flask) -> None:
    from . import (
        analytics_page,
        data_requests,
        data_requests_page,
        home,
        import_page,
        member,
        members,
        openapi,
        program,
        segments_page,
    )

    for module in (
        home,
        program,
        members,
        member,
        analytics_page,
        segments_page,
        import_page,
        data_requests,
        data_requests_page,
        openapi,
    ):
        app.register_blueprint(module.bp)

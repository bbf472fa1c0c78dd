"""The Data requests page: the exports prepared for ``customers/data_request``, to download and
send to the customer (the API is ``data_requests``)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from ..auth import installed_shop
from ..models import DataExport
from ..runtime import kanta
from .embedded import AdminPage, embedded_page, render_page

bp = Blueprint("admin_data_requests_page", __name__)


@bp.get("/data-requests")
@embedded_page
def data_requests_view(page: AdminPage) -> str:
    with kanta().db.read() as session:
        shop = installed_shop(session, page.shop_domain)
        exports = session.execute(
            select(
                DataExport.data_request_id, DataExport.shopify_customer_id, DataExport.created_at
            )
            .where(DataExport.shop_id == shop.id)
            .order_by(DataExport.created_at.desc(), DataExport.id.desc())
            .limit(500)
        ).all()
    return render_page(
        "data_requests.html",
        page,
        active="/data-requests",
        exports=[
            {
                "data_request_id": str(request_id),
                "customer_id": str(customer_id) if customer_id else None,
                "prepared_at": prepared_at,
            }
            for request_id, customer_id, prepared_at in exports
        ],
    )

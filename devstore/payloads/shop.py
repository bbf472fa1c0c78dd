"""The Shop object, ``app/uninstalled`` and the compliance topics' bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .amounts import (
    DEFAULT_LOCATION_ID,
    EPOCH,
    JSON,
    ts,
)


def build_shop(
    shop_id: int,
    shop_domain: str,
    *,
    name: str | None = None,
    email: str | None = None,
    currency: str = "USD",
    created_at: datetime | None = None,
    iana_timezone: str = "America/New_York",
    plan_name: str = "partner_test",
    plan_display_name: str = "Development",
) -> JSON:
    """The REST Shop resource (used as the ``app/uninstalled`` body, reference §3.5)."""
    handle = shop_domain.split(".", 1)[0]
    shop_name = name or handle.replace("-", " ").title()
    created = created_at or EPOCH
    return {
        "id": shop_id,
        "name": shop_name,
        "email": email or f"owner@{handle}.example",
        "domain": shop_domain,
        "province": "Ontario",
        "country": "CA",
        "address1": "150 Elgin Street",
        "zip": "K2P 1L4",
        "city": "Ottawa",
        "source": None,
        "phone": "",
        "latitude": None,
        "longitude": None,
        "primary_locale": "en",
        "address2": "",
        "created_at": ts(created),
        "updated_at": ts(created),
        "country_code": "CA",
        "country_name": "Canada",
        "currency": currency,
        "customer_email": email or f"owner@{handle}.example",
        "timezone": f"(GMT-05:00) {iana_timezone}",
        "iana_timezone": iana_timezone,
        "shop_owner": "Demo Owner",
        "money_format": "${{amount}}",
        "money_with_currency_format": f"${{{{amount}}}} {currency}",
        "weight_unit": "kg",
        "province_code": "ON",
        "taxes_included": False,
        "tax_shipping": None,
        "county_taxes": True,
        "plan_display_name": plan_display_name,
        "plan_name": plan_name,
        "has_discounts": True,
        "has_gift_cards": True,
        "myshopify_domain": shop_domain,
        "money_in_emails_format": "${{amount}}",
        "eligible_for_payments": True,
        "requires_extra_payments_agreement": False,
        "password_enabled": True,
        "has_storefront": True,
        "finances": True,
        "primary_location_id": DEFAULT_LOCATION_ID,
        "checkout_api_supported": True,
        "multi_location_enabled": True,
        "setup_required": False,
        "pre_launch_enabled": False,
        "enabled_presentment_currencies": [currency],
        "marketing_sms_consent_enabled_at_checkout": False,
        "transactional_sms_disabled": False,
    }


def build_app_uninstalled(shop_id: int, shop_domain: str, **shop_fields: Any) -> JSON:
    """``app/uninstalled`` body: the Shop resource (exact field list UNCONFIRMED, §3.5)."""
    return build_shop(shop_id, shop_domain, **shop_fields)


def build_customers_redact(
    shop_id: int,
    shop_domain: str,
    customer_id: int,
    email: str,
    orders_to_redact: list[int],
    phone: str | None = None,
) -> JSON:
    """``customers/redact`` body (reference §3.4)."""
    return {
        "shop_id": shop_id,
        "shop_domain": shop_domain,
        "customer": {"id": customer_id, "email": email, "phone": phone},
        "orders_to_redact": list(orders_to_redact),
    }


def build_customers_data_request(
    shop_id: int,
    shop_domain: str,
    customer_id: int,
    email: str,
    orders_requested: list[int],
    data_request_id: int,
    phone: str | None = None,
) -> JSON:
    """``customers/data_request`` body (reference §3.4)."""
    return {
        "shop_id": shop_id,
        "shop_domain": shop_domain,
        "orders_requested": list(orders_requested),
        "customer": {"id": customer_id, "email": email, "phone": phone},
        "data_request": {"id": data_request_id},
    }


def build_shop_redact(shop_id: int, shop_domain: str) -> JSON:
    """``shop/redact`` body (reference §3.4)."""
    return {"shop_id": shop_id, "shop_domain": shop_domain}

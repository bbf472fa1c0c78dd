"""The REST Customer object as order payloads embed it."""

from __future__ import annotations

from datetime import datetime

from .amounts import (
    EPOCH,
    JSON,
    derive_id,
    ts,
)


def address_of(first_name: str, last_name: str, phone: str | None) -> JSON:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "name": f"{first_name} {last_name}".strip(),
        "company": None,
        "address1": "150 Elgin Street",
        "address2": "Suite 800",
        "city": "Ottawa",
        "province": "Ontario",
        "province_code": "ON",
        "country": "Canada",
        "country_code": "CA",
        "zip": "K2P 1L4",
        "phone": phone,
        "latitude": 45.4200832,
        "longitude": -75.6920543,
    }


def build_customer(
    customer_id: int,
    *,
    email: str,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    currency: str = "USD",
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    verified_email: bool = True,
) -> JSON:
    """The REST Customer object as embedded in order payloads (API 2025-01+ field set, §4.1)."""
    created = created_at or EPOCH
    address = address_of(first_name, last_name, phone)
    return {
        "id": customer_id,
        "email": email,
        "created_at": ts(created),
        "updated_at": ts(updated_at or created),
        "first_name": first_name,
        "last_name": last_name,
        "state": "enabled",
        "note": None,
        "verified_email": verified_email,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": phone,
        "currency": currency,
        "tax_exemptions": [],
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "default_address": {
            "id": derive_id(customer_id, "address"),
            "customer_id": customer_id,
            **address,
            "country_name": address["country"],
            "default": True,
        },
    }

"""The admin API's OpenAPI 3 document, ``GET /api/admin/openapi.json``, assembled from fragments.

Each API module says what it serves next to the code that serves it: ``OPENAPI_PATHS`` (path →
operations) and, optionally, ``OPENAPI_SCHEMAS`` (name → JSON schema). ``build_openapi`` merges
them with the shared components below; a path or schema defined twice is a programming error.
To add an API module, list it in ``plugin.admin.api_modules``.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("admin_openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}

SHARED_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "ValidationErrors": {
        "type": "object",
        "description": "A refused request changes nothing; each field says what is wrong.",
        "required": ["errors"],
        "properties": {
            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "CustomerId": {
        "type": "string",
        "pattern": "^[0-9]{1,19}$",
        "description": "A Shopify customer id (64-bit), as a string.",
    },
}

SHARED_RESPONSES: dict[str, Any] = {
    "Unauthorized": {
        "description": "Missing, invalid or expired App Bridge session token.",
        "content": {"application/json": {"schema": ERROR}},
    },
    "NotInstalled": {
        "description": "Kanta is not installed on the token's shop.",
        "content": {"application/json": {"schema": ERROR}},
    },
    "NotFound": {
        "description": "Nothing of that id in this shop.",
        "content": {"application/json": {"schema": ERROR}},
    },
    "BadRequest": {
        "description": "The request is malformed.",
        "content": {"application/json": {"schema": ERROR}},
    },
    "Invalid": {
        "description": "Some values are invalid; nothing was changed.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrors"}}
        },
    },
}


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def secured(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation behind the session token, with the answers every such operation can give."""
    responses = {
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/NotInstalled"},
        **operation.pop("responses"),
    }
    return {"security": [{"sessionToken": []}], **operation, "responses": responses}


def build_openapi(modules: Iterable[ModuleType]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = dict(SHARED_SCHEMAS)
    for module in modules:
        for path, operations in getattr(module, "OPENAPI_PATHS", {}).items():
            if path in paths:
                raise ValueError(f"{module.__name__}: path {path} is already described")
            paths[path] = operations
        for name, schema in getattr(module, "OPENAPI_SCHEMAS", {}).items():
            if name in schemas:
                raise ValueError(f"{module.__name__}: schema {name} is already defined")
            schemas[name] = schema
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Kanta admin API",
            "version": "1",
            "description": (
                "What the merchant's embedded admin shows, as JSON. Every call carries an App "
                "Bridge session token (`Authorization: Bearer <id token>`) and sees only its "
                "own shop. Ids are strings (64-bit); money and rates are decimal strings."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "sessionToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": schemas,
            "responses": SHARED_RESPONSES,
        },
    }


@bp.get("/api/admin/openapi.json")
def openapi_document() -> Any:
    from . import api_modules

    return jsonify(build_openapi(api_modules()))

"""The errors every operation can answer, declared in the OpenAPI document as they are sent.

Every error body is ``{"detail": "<message for people>"}`` (plus ``errors`` for 422, ``ticket_id`` for
ticket conflicts), produced in ``web/app.py``. FastAPI's generated document declares 422 as
``HTTPValidationError`` and leaves 413/429 out; this rewrites each operation's error responses so that
clients (and the schemathesis run of ``make fuzz``) see what the server really sends.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"description": "what went wrong, for people"},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "422: every problem"},
        "ticket_id": {"type": "integer", "description": "ticket errors: the ticket concerned"},
    },
}
COMMON = {
    "413": "request body too large (MAX_BODY_BYTES / MAX_IMPORT_BYTES)",
    "422": "invalid request: detail names each field, errors lists them",
    "429": "rate limit reached; Retry-After says when to try again",
    "4XX": "other client errors",
}


def document_errors(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for code, description in COMMON.items():
                    responses.setdefault(code, {"description": description})
                for code, response in responses.items():
                    if code[0] in "45":
                        response["content"] = ref
        schemas = schema["components"]["schemas"]
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

"""problem+json error responses in the OpenAPI schema.

Routers declare which error statuses they produce with :func:`problems`; the
schema hook then points each at the shared Problem schema under
``application/problem+json`` (FastAPI would document them as application/json).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_TITLES = {
    400: "Bad request",
    401: "Missing, malformed, unknown, revoked or expired token",
    403: "The token lacks the required scope",
    404: "Not found",
    409: "Conflict",
    413: "Payload too large",
    422: "Invalid request: each bad field is named in `errors`",
    428: "Precondition required",
    429: "Too many requests",
    502: "Function Compute failed, refused the account's credentials or could not be reached",
    503: "Service unavailable",
}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details with a stable machine-readable `code`.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Validation errors, one per bad field (422 only).",
            "items": {
                "type": "object",
                "required": ["field", "location", "message", "type"],
                "properties": {
                    "field": {"type": "string"},
                    "location": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the error statuses an operation can return."""
    return {status: {"description": _TITLES[status]} for status in statuses}


def install_problem_schema(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
        )
        schema["components"] = schema.get("components", {})
        schema["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An fcplane API token."}
        }
        components = schema["components"].setdefault("schemas", {})
        components["Problem"] = _PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        ref = {"$ref": "#/components/schemas/Problem"}
        malformed = {
            "description": "Malformed HTTP request, refused by the HTTP server before the API "
            "sees it (the API itself answers bad input with 422).",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
        for path, path_item in schema.get("paths", {}).items():
            for operation in path_item.values():
                operation.setdefault("responses", {}).setdefault("400", malformed)
                if path.startswith("/v1/"):
                    operation["security"] = [{"bearer": []}]
                for status, response in operation.get("responses", {}).items():
                    # Declared with problems() (no content yet) or FastAPI's default 422.
                    content = json.dumps(response.get("content", {}))
                    if (
                        status.isdigit()
                        and int(status) >= 400
                        and (not response.get("content") or "HTTPValidationError" in content)
                    ):
                        response["content"] = {"application/problem+json": {"schema": ref}}
                        if int(status) in _TITLES:
                            response["description"] = _TITLES[int(status)]
        for path_item in schema.get("webhooks", {}).values():
            for operation in path_item.values():
                # What fcplane expects back from a receiver, not what FastAPI would answer.
                operation["responses"] = {
                    "2XX": {"description": "Received. Any other answer (or none) is retried."}
                }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

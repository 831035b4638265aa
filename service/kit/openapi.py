"""The OpenAPI document, shaped for the clients generated from it.

Routers declare the error statuses an operation produces with :func:`problems`
(with the typed problem of a 409 that carries a plan) and set ``Location`` on
what they create with :func:`created`; :func:`install_openapi` does the rest in
one place: operation ids (the route names), tags, servers, security, errors as
``application/problem+json``, the ``Location`` header of every 201 and a title
for each anonymous object a generator would otherwise call ``...Type0``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from service.kit.errors import PROBLEM_JSON

_TITLES = {
    400: "Bad request",
    401: "Missing, malformed, unknown, revoked or expired token",
    403: "The token lacks the required scope",
    404: "Not found",
    409: "Conflict",
    413: "Payload too large",
    415: "The body was not sent as `Content-Type: application/json`",
    422: "Invalid request: each bad field is named in `errors`; a body that is not JSON at "
    "all is one error of type `json_invalid` on `body`, with its line and column",
    428: "Precondition required",
    429: "Too many requests",
    502: "Function Compute failed, refused the account's credentials or could not be reached",
    503: "Service unavailable",
}

TAGS: list[dict[str, str]] = [
    {"name": "health", "description": "Liveness and readiness probes (no token needed)."},
    {"name": "tokens", "description": "API tokens and their scopes (`read`, `deploy`, `admin`)."},
    {"name": "accounts", "description": "FC accounts: credentials, region and endpoint."},
    {"name": "functions", "description": "Managed functions and their numbered revisions."},
    {
        "name": "code packages",
        "description": "Code zips, stored once by their sha256 and deployed by it.",
    },
    {
        "name": "deployments",
        "description": "Plans and deploys with optimistic concurrency: a stale base or drift "
        "answers 409 with the plan, unless a strategy says how to resolve it.",
    },
    {"name": "releases", "description": "FC versions and aliases (canary routing)."},
    {"name": "drift", "description": "What changed in FC outside fcplane, and when."},
    {"name": "sync", "description": "A function as FC runs it, as an s.yaml and its code."},
    {"name": "projects", "description": "Serverless Devs s.yaml projects, deployed as one unit."},
    {
        "name": "jobs",
        "description": "Stress tests and spec / concurrency evaluations, run by workers.",
    },
    {"name": "webhooks", "description": "Subscriptions to fcplane's events, and their deliveries."},
    {
        "name": "chat-ops",
        "description": "Chat integrations (Slack, DingTalk, Feishu): commands from chat, "
        "approvals of the changes they ask for, and the audit trail.",
    },
    {
        "name": "webhook events",
        "description": "What fcplane sends to a `standard` webhook subscription.",
    },
]

SERVERS = [
    {"url": "http://127.0.0.1:8000", "description": "`fcplane serve` on its default address"}
]
LICENSE = {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"}
_BEARER = "bearer"
# Routes that take no token because their request is signed by someone else: a chat
# platform (its signing secret) or fcplane itself (a one-time approval link).
SIGNED_REQUEST: dict[str, Any] = {"security": []}
# Routes a browser opens with a signed, expiring link instead of a token.
TOKEN_OR_SIGNED_LINK: dict[str, Any] = {"security": [{_BEARER: []}, {}]}
_LOCATION = {
    "Location": {
        "description": "Where the created resource is read (a path on this API).",
        "schema": {"type": "string", "format": "uri-reference"},
    }
}


class FieldError(BaseModel):
    """One invalid input."""

    field: str = Field(description="The field, as a dotted path (`params.users`, `body`).")
    location: str = Field(description="`body`, `query`, `path` or `header`.")
    message: str
    type: str = Field(description="A stable error type, e.g. `missing`, `extra_forbidden`.")


def _is_none(value: object) -> bool:
    return value is None


def absent_when_none(description: str) -> Any:
    """A field left out of the body (not sent as null) when it has no value; declared as
    ``X | SkipJsonSchema[None]``, the schema says "optional", not "nullable"."""
    return Field(None, exclude_if=_is_none, description=description)


class Problem(BaseModel):
    """RFC 9457 problem details with a stable machine-readable `code`.

    Some problems carry more members (`field`, `deployment_id`, FC's `fc_code`, ...).
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://fcplane.dev/problems/not_found",
                    "title": "Not found",
                    "status": 404,
                    "detail": "function 'local/hello' is not managed by fcplane",
                    "code": "not_found",
                }
            ]
        },
    )

    type: str = Field(description="A URI naming the kind of problem; ends with the `code`.")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable and machine-readable, e.g. `revision_conflict`.")
    errors: list[FieldError] = Field(
        default_factory=list,
        description="Validation errors, one per bad field (422 only).",
    )
    instance: str | SkipJsonSchema[None] = absent_when_none(
        "`urn:fcplane:request:<X-Request-ID>`: the request this answers, as it appears "
        "in the response header and in fcplane's logs."
    )


class ErrorDetail(BaseModel):
    """Why something failed, as it was answered when it did (kept with the record)."""

    model_config = ConfigDict(extra="allow")

    code: str | SkipJsonSchema[None] = absent_when_none("The problem's `code`.")
    status: int | SkipJsonSchema[None] = absent_when_none("The HTTP status it was answered with.")
    detail: str
    fc_code: str | SkipJsonSchema[None] = absent_when_none("FC's error code, when FC refused.")
    fc_message: str | SkipJsonSchema[None] = absent_when_none("FC's error message.")
    fc_request_id: str | SkipJsonSchema[None] = absent_when_none("FC's request id.")
    fc_applied: list[str] | SkipJsonSchema[None] = absent_when_none(
        "FC calls that landed before the failure (that part is live)."
    )


def problems(
    *statuses: int, conflict: type[Problem] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the error statuses an operation can return;
    ``conflict``: the typed problem of its 409."""
    documented: dict[int | str, dict[str, Any]] = {
        status: {"description": _TITLES[status], "model": Problem} for status in statuses
    }
    if conflict is not None:
        documented[409] = {"description": _TITLES[409], "model": conflict}
    return documented


def created(response: Response, path: str) -> None:
    """Answer with where the created resource is read (percent-encoded: a header is
    Latin-1, a path segment such as a chat user id may be any text)."""
    response.headers["Location"] = quote(path, safe="/:@!$&'()*+,;=-._~")


# A zip download, as either media type: generators read application/octet-stream
# (openapi-python-client skips a response it only knows as application/zip).
ZIP_CONTENT: dict[str, Any] = {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in ("application/zip", "application/octet-stream")
}


def zip_media_type(request: Request) -> str:
    """`application/zip`, unless the client asked for `application/octet-stream` only."""
    accept = request.headers.get("accept", "")
    wants_octets = "application/octet-stream" in accept and "application/zip" not in accept
    return "application/octet-stream" if wants_octets else "application/zip"


def operation_id(route: APIRoute) -> str:
    """A route's operation id is its name: ``create_deployment``, not a path mash."""
    return route.name


def _as_problem_json(response: dict[str, Any]) -> None:
    # FastAPI documents a `model` under the route's media type (text/html for a
    # report); errors are problem+json whatever the success is.
    schemas = [media.get("schema") for media in (response.get("content") or {}).values()]
    if schemas and schemas[0] is not None:
        response["content"] = {PROBLEM_JSON: {"schema": schemas[0]}}


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def _title_nullable_branches(components: dict[str, Any]) -> None:
    """Name the unnamed object or enum of an optional property (``X | None``).

    Generators name such a branch by its position (openapi-python-client:
    `FunctionConfigLogConfigType0`); a `title` (an annotation, no validation
    meaning) makes it `FunctionConfigLogConfig`, and a list's items `...Tag`.
    """
    for model in components.values():
        for prop, schema in model.get("properties", {}).items():
            for branch in schema.get("anyOf", []):
                title = prop[0].upper() + prop[1:]
                if branch.get("type") == "array":
                    branch, title = branch.get("items", {}), _singular(title)
                unnamed = "$ref" not in branch and "title" not in branch
                if unnamed and (branch.get("type") == "object" or "enum" in branch):
                    branch["title"] = title


def _json_body_problems(operation: dict[str, Any], problem_ref: dict[str, Any]) -> None:
    """Every operation with a JSON body may answer 415 (not sent as JSON): StrictRoute
    does it for all of them, so it is documented here for all of them (a malformed body
    is a 422, documented already)."""
    content = (operation.get("requestBody") or {}).get("content") or {}
    if "application/json" not in content:
        return
    responses = operation.setdefault("responses", {})
    responses.setdefault(
        "415", {"description": _TITLES[415], "content": {PROBLEM_JSON: {"schema": problem_ref}}}
    )


def _shape(schema: dict[str, Any]) -> dict[str, Any]:
    schema["security"] = [{_BEARER: []}]
    schema.setdefault("components", {})["securitySchemes"] = {
        _BEARER: {"type": "http", "scheme": "bearer", "description": "An fcplane API token."}
    }
    components = schema["components"].setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    _title_nullable_branches(components)
    seen: dict[str, str] = {}
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            where = f"{method.upper()} {path}"
            if operation["operationId"] in seen:
                raise RuntimeError(
                    f"{where} and {seen[operation['operationId']]} have the same route name "
                    f"{operation['operationId']!r}; route names are operation ids"
                )
            seen[operation["operationId"]] = where
            _json_body_problems(operation, {"$ref": "#/components/schemas/Problem"})
            # The probes answer anyone; everything under /v1 needs a token unless the
            # route says otherwise (SIGNED_REQUEST, TOKEN_OR_SIGNED_LINK).
            operation.setdefault("security", [{_BEARER: []}] if path.startswith("/v1/") else [])
            operation["responses"] = dict(sorted(operation.get("responses", {}).items()))
            for status, response in operation["responses"].items():
                if status.isdigit() and int(status) >= 400:
                    _as_problem_json(response)
                elif status == "201":
                    response.setdefault("headers", {}).update(_LOCATION)
    for path_item in schema.get("webhooks", {}).values():
        for operation in path_item.values():
            # What fcplane expects back from a receiver, not what FastAPI would answer.
            operation["responses"] = {
                "2XX": {"description": "Received. Any other answer (or none) is retried."}
            }
            operation["security"] = []
    return schema


Finisher = Callable[[dict[str, Any]], None]


def add_finisher(app: FastAPI, finisher: Finisher) -> None:
    """Run ``finisher`` on the finished document: FastAPI drops every null while it
    builds one, so what must show a null (an example) is put in afterwards."""
    app.state.openapi_finishers = [*getattr(app.state, "openapi_finishers", []), finisher]


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            schema = _shape(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                    webhooks=app.webhooks.routes,
                    tags=TAGS,
                    servers=SERVERS,
                    license_info=LICENSE,
                )
            )
            for finish in getattr(app.state, "openapi_finishers", []):
                finish(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""One domain error hierarchy, rendered as RFC 9457 problem+json.

Services raise these; one set of handlers turns them (and FastAPI's own
validation and routing errors) into responses with a stable ``code``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from service.kit.request_id import HEADER as REQUEST_ID_HEADER
from service.kit.request_id import current_request_id

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://fcplane.dev/problems/"
# A problem's `instance` names the request it answered: a URN, not a path, so that no
# client resolves it against the request URL. Quote it (or X-Request-ID) to find the
# request's log lines.
INSTANCE_PREFIX = "urn:fcplane:request:"


class DomainError(Exception):
    """Base of every error a service may raise toward a client."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        # Response headers that belong to the error (Retry-After, ...).
        self.headers: dict[str, str] = {}


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


# The two codes of a refused change (a deploy, an alias update, a publish):
# its base is stale, or FC differs from what fcplane applied.
REVISION_CONFLICT = "revision_conflict"
DRIFT_CONFLICT = "drift_conflict"


class AlreadyExists(Conflict):
    code, title = "already_exists", "Already exists"


class InUse(Conflict):
    code, title = "in_use", "Resource in use"


class PreconditionRequired(DomainError):
    status, code, title = 428, "precondition_required", "Precondition required"


class InvalidInput(DomainError):
    """Input that passed schema validation but breaks a domain rule."""

    status, code, title = 422, "invalid_input", "Invalid input"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", "Authentication required"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Insufficient scope"


class Unavailable(DomainError):
    status, code, title = 503, "unavailable", "Service unavailable"


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document; its ``type`` is derived from the stable ``code``.

    A member without a value is left out rather than sent as null: the typed problems
    (``ConflictProblem``...) declare their extra members optional, not nullable.
    ``instance`` is ``urn:fcplane:request:<X-Request-ID>`` while a request is served.
    """
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **{key: value for key, value in extra.items() if value is not None},
    }
    request_id = current_request_id()
    if request_id is not None:
        body.setdefault("instance", INSTANCE_PREFIX + request_id)
    return body


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, code, title, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(loc: tuple[int | str, ...]) -> str:
    # ("body", "region") -> "region"; ("query", "limit") -> "limit"; nested -> "a.b.0"
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = dict(exc.headers)
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return problem(exc.status, exc.code, exc.title, exc.detail, headers=headers, **exc.extra)


def malformed_json(reason: str) -> JSONResponse:
    """The body is not JSON at all: one error for the whole body, with where it broke.

    422 like every other invalid input (one status, one ``code`` for clients to handle);
    the error's ``type`` (`json_invalid`) tells it apart from a bad field.
    """
    detail = f"body is not valid JSON: {reason}"
    error = {"field": "body", "location": "body", "message": detail, "type": "json_invalid"}
    return problem(422, "validation_error", "Invalid request", detail, field="body", errors=[error])


def _where(document: object, position: object) -> str:
    # FastAPI keeps the character offset only; a person wants a line and a column.
    if not isinstance(document, str) or not isinstance(position, int):
        return ""
    line = document.count("\n", 0, position) + 1
    column = position - document.rfind("\n", 0, position)
    return f" at line {line} column {column}"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    for err in exc.errors():
        if err["type"] == "json_invalid":
            reason = str((err.get("ctx") or {}).get("error") or "JSON decode error")
            return malformed_json(reason + _where(exc.body, err["loc"][-1]))
    # Never echo the offending input: it may be a credential.
    errors = [
        {
            "field": _field_name(tuple(err["loc"])),
            "location": str(err["loc"][0]),
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors()
    ]
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return problem(
        422, "validation_error", "Invalid request", f"Invalid fields: {fields}", errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's only 400 is a JSON body it cannot decode as text at all
        # (bad encoding); JSON that decodes but does not parse is json_invalid.
        return malformed_json("not UTF-8, UTF-16 or UTF-32 text")
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    code = codes.get(exc.status_code, f"http_{exc.status_code}")
    title = str(exc.detail) if exc.detail else "Error"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first matching route's methods; a path served
        # by several routes (GET and POST /v1/tokens) must list them all.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem(exc.status_code, code, title, title, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            if route.matches(request.scope)[0] is not Match.NONE:
                methods |= route.methods
    return sorted(methods)


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    # Every pooled connection stayed busy for the whole pool timeout: the
    # server is overloaded, not broken; the client may retry.
    log.warning("database pool exhausted on %s %s", request.method, request.url.path)
    return problem(
        503,
        "database_busy",
        "Service unavailable",
        "the database is busy; retry shortly",
        headers={"Retry-After": "1"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The exception text may carry anything (SQL parameters, SDK responses), so
    # it goes to the log with its type only, never to the client.
    log.error(
        "unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc
    )
    # Starlette answers this one outside every middleware, so the request id
    # middleware cannot add its header: the id is put on here.
    request_id = current_request_id()
    return problem(
        500,
        "internal_error",
        "Internal server error",
        "An unexpected error occurred; it has been logged.",
        headers={REQUEST_ID_HEADER: request_id} if request_id else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(Exception, _unexpected_error)

"""The route class every router uses: input FastAPI would accept too quietly is refused.

- Query parameters an operation does not declare are refused, as unknown JSON
  fields are: a typo such as `?limt=5` would otherwise be ignored and the
  client would get a default it did not ask for.
- A JSON body nested deeper than :data:`MAX_JSON_DEPTH` is refused before it is
  parsed: configs are a few levels deep, and every layer that walks a config
  (normalizing, diffing, fingerprinting, storing) recurses into it.

- A JSON string holding a lone UTF-16 surrogate (``"\\ud800"``: valid JSON, but no
  Unicode text) is refused with 422 naming its field: nothing can encode it, not
  the database, a log line, an outgoing request or a secret's encryption.

- A JSON body sent without ``Content-Type: application/json`` (or a ``+json``
  type) is refused with 415 naming the type: FastAPI would otherwise validate
  the raw bytes and answer "Input should be a valid dictionary".

The checks wrap each route's handler (``route_class=StrictRoute``), which costs
a set difference and, for a JSON body, two regular-expression passes per
request; a FastAPI dependency doing the same would cost the solving of a
whole dependency graph.
"""

from __future__ import annotations

import email.message
import json
import re
from collections.abc import Callable, Coroutine
from itertools import accumulate
from typing import Any

from fastapi import Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from service.kit.errors import UnsupportedMediaType

_Handler = Callable[[Request], Coroutine[Any, Any, Response]]

MAX_JSON_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


# A \uD800-\uDFFF escape: only bodies holding one are parsed here to look closer.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def lone_surrogate(body: bytes) -> tuple[str | int, ...] | None:
    """Where in ``body`` a string (or key) holds a lone surrogate; None when none does
    (or the body is not JSON: the parser gives its own error)."""
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        return _find_surrogate(json.loads(body), ())
    except ValueError:
        return None


def _find_surrogate(value: Any, at: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return at
        return None
    if not isinstance(value, dict | list):
        return None
    items: Any = value.items() if isinstance(value, dict) else enumerate(value)
    for key, inner in items:
        if isinstance(key, str) and _find_surrogate(key, at) is not None:
            return at  # the object with the bad key (the key itself cannot be shown)
        found = _find_surrogate(inner, (*at, key))
        if found is not None:
            return found
    return None


def json_depth(body: bytes) -> int:
    """How deeply ``body`` nests arrays and objects (0 for a scalar); malformed JSON
    gets some number, and the parser its own error."""
    brackets = _BRACKET.findall(_STRING.sub(b"", body))
    return max(accumulate(_STEP[b[0]] for b in brackets), default=0)


def is_json_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json``, parameters ignored."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _check_json_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if is_json_type(content_type):
        return
    sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
    raise UnsupportedMediaType(
        f"this endpoint takes a JSON body: send it with Content-Type: application/json "
        f"(the request has {sent})",
        expected="application/json",
    )


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


class StrictRoute(APIRoute):
    def get_route_handler(self) -> _Handler:
        handler = super().get_route_handler()
        declared = frozenset(_query_names(self.dependant))
        takes_json = self.body_field is not None and not isinstance(
            self.body_field.field_info, params.Form
        )

        async def strict(request: Request) -> Response:
            if request.scope.get("query_string"):
                unknown = sorted(set(request.query_params.keys()) - declared)
                if unknown:
                    raise RequestValidationError(
                        [
                            {
                                "loc": ("query", name),
                                "msg": "unknown query parameter",
                                "type": "extra_forbidden",
                            }
                            for name in unknown
                        ]
                    )
            # FastAPI keeps the body read here for its own parsing. An empty body is
            # left to FastAPI: a missing required body is a 422 naming `body`.
            body = await request.body() if takes_json else b""
            if body:
                _check_json_type(request)
            if body and json_depth(body) > MAX_JSON_DEPTH:
                message = f"nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects"
                raise RequestValidationError(
                    [{"loc": ("body",), "msg": message, "type": "too_deep"}]
                )
            if body and (where := lone_surrogate(body)) is not None:
                message = "a lone UTF-16 surrogate (\\ud800-\\udfff without its pair) is not text"
                raise RequestValidationError(
                    [{"loc": ("body", *where), "msg": message, "type": "string_unicode"}]
                )
            return await handler(request)

        return strict

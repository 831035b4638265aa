"""The route class every router uses: input FastAPI would accept too quietly is refused.

- Query parameters an operation does not declare are refused, as unknown JSON
  fields are: a typo such as `?limt=5` would otherwise be ignored and the
  client would get a default it did not ask for.
- A JSON body nested deeper than :data:`MAX_JSON_DEPTH` is refused before it is
  parsed: configs are a few levels deep, and every layer that walks a config
  (normalizing, diffing, fingerprinting, storing) recurses into it.

Both checks wrap each route's handler (``route_class=StrictRoute``), which costs
a set difference and, for a JSON body, two regular-expression passes per
request; a FastAPI dependency doing the same would cost the solving of a
whole dependency graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from itertools import accumulate
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

_Handler = Callable[[Request], Coroutine[Any, Any, Response]]

MAX_JSON_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deeply ``body`` nests arrays and objects (0 for a scalar); malformed JSON
    gets some number, and the parser its own error."""
    brackets = _BRACKET.findall(_STRING.sub(b"", body))
    return max(accumulate(_STEP[b[0]] for b in brackets), default=0)


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


class StrictRoute(APIRoute):
    def get_route_handler(self) -> _Handler:
        handler = super().get_route_handler()
        declared = frozenset(_query_names(self.dependant))
        takes_json = self.body_field is not None

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
            # FastAPI keeps the body read here for its own parsing.
            if takes_json and json_depth(await request.body()) > MAX_JSON_DEPTH:
                message = f"nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects"
                raise RequestValidationError(
                    [{"loc": ("body",), "msg": message, "type": "too_deep"}]
                )
            return await handler(request)

        return strict

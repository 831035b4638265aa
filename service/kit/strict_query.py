"""Reject query parameters an operation does not declare, as unknown JSON fields are.

A typo such as `?limt=5` would otherwise be ignored silently and the client
would get a default it did not ask for. Routers are built with
``route_class=StrictQueryRoute``: the check wraps each route's handler, which
costs a set difference per request (a FastAPI dependency doing the same cost
the solving of a whole dependency graph).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

_Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


class StrictQueryRoute(APIRoute):
    def get_route_handler(self) -> _Handler:
        handler = super().get_route_handler()
        declared = frozenset(_query_names(self.dependant))

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
            return await handler(request)

        return strict

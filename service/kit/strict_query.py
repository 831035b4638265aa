"""Reject query parameters an operation does not declare, as unknown JSON fields are.

A typo such as `?limt=5` would otherwise be ignored silently and the client
would get a default it did not ask for.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

# Computed once per route and kept on it (routes are not hashable, and a cache
# keyed by id() could hand a new route a collected one's names).
_ATTRIBUTE = "_fcplane_query_names"


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _declared_names(route: APIRoute) -> frozenset[str]:
    names: frozenset[str] | None = getattr(route, _ATTRIBUTE, None)
    if names is None:
        names = frozenset(_query_names(route.dependant))
        setattr(route, _ATTRIBUTE, names)
    return names


async def reject_unknown_query_params(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    unknown = sorted(set(request.query_params.keys()) - _declared_names(route))
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

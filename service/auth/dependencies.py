"""Who is calling: one dependency per required scope.

Each is a single dependency that reads the header from the ``Request``
(rather than a ``Header`` parameter plus a nested scope check): on a token
cache hit, authentication itself is a hash and a dictionary lookup, so
FastAPI's per-dependency solving was most of its cost. A cache miss reads the
token in its own short read, whose connection is back in the pool before the
handler starts: a request never holds a connection for authentication while
it waits for another one.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from service.auth.principal import Principal
from service.auth.schemas import Scope
from service.auth.service import TokenService
from service.state import app_state

_Dependency = Callable[..., Coroutine[Any, Any, Principal]]


async def authenticate(request: Request, scope: Scope | None) -> Principal:
    """The request's bearer token, holding ``scope``; for routes that take a token only
    sometimes (a signed report link, a public /metrics) and so cannot declare one."""
    state = app_state(request)
    found = await TokenService(state.db, state.token_cache).authenticate(
        request.headers.get("authorization")
    )
    if scope is not None:
        found.require(scope)
    return found


def _requiring(scope: Scope | None) -> _Dependency:
    async def principal(request: Request) -> Principal:
        return await authenticate(request, scope)

    return principal


CurrentPrincipal = Annotated[Principal, Depends(_requiring(None))]
ReadPrincipal = Annotated[Principal, Depends(_requiring(Scope.READ))]
DeployPrincipal = Annotated[Principal, Depends(_requiring(Scope.DEPLOY))]
AdminPrincipal = Annotated[Principal, Depends(_requiring(Scope.ADMIN))]

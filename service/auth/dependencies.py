"""Who is calling: one dependency per required scope.

Each is a single dependency that reads the header from the ``Request``
(rather than a ``Header`` parameter plus a nested scope check): on a token
cache hit, authentication itself is a hash and a dictionary lookup, so
FastAPI's per-dependency solving was most of its cost.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from service.auth.principal import Principal
from service.auth.repository import TokenRepository
from service.auth.schemas import Scope
from service.auth.service import TokenService
from service.kit.state import SessionDep, app_state

_Dependency = Callable[..., Coroutine[Any, Any, Principal]]


def _requiring(scope: Scope | None) -> _Dependency:
    async def principal(request: Request, session: SessionDep) -> Principal:
        # The session is the request's own and lazy: it takes a connection
        # only when the token cache misses.
        service = TokenService(TokenRepository(session), app_state(request).token_cache)
        found = await service.authenticate(request.headers.get("authorization"))
        if scope is not None:
            found.require(scope)
        return found

    return principal


# scope="function", like SessionDep which they use.
CurrentPrincipal = Annotated[Principal, Depends(_requiring(None), scope="function")]
ReadPrincipal = Annotated[Principal, Depends(_requiring(Scope.READ), scope="function")]
DeployPrincipal = Annotated[Principal, Depends(_requiring(Scope.DEPLOY), scope="function")]
AdminPrincipal = Annotated[Principal, Depends(_requiring(Scope.ADMIN), scope="function")]

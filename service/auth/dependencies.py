from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from service.auth.principal import Principal
from service.auth.repository import TokenRepository
from service.auth.schemas import Scope
from service.auth.service import TokenService
from service.kit.state import SessionDep, StateDep


async def _principal(
    session: SessionDep,
    state: StateDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    service = TokenService(TokenRepository(session), state.token_cache)
    return await service.authenticate(authorization)


CurrentPrincipal = Annotated[Principal, Depends(_principal, scope="function")]


def _requiring(scope: Scope) -> object:
    async def check(principal: CurrentPrincipal) -> Principal:
        principal.require(scope)
        return principal

    return Depends(check, scope="function")


ReadPrincipal = Annotated[Principal, _requiring(Scope.READ)]
DeployPrincipal = Annotated[Principal, _requiring(Scope.DEPLOY)]
AdminPrincipal = Annotated[Principal, _requiring(Scope.ADMIN)]

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from service.auth.repository import TokenRepository
from service.auth.schemas import Scope
from service.auth.service import Principal, TokenService
from service.kit.state import SessionDep


async def _principal(
    session: SessionDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    return await TokenService(TokenRepository(session)).authenticate(authorization)


CurrentPrincipal = Annotated[Principal, Depends(_principal, scope="function")]


def _requiring(scope: Scope) -> object:
    async def check(principal: CurrentPrincipal) -> Principal:
        principal.require(scope)
        return principal

    return Depends(check, scope="function")


ReadPrincipal = Annotated[Principal, _requiring(Scope.READ)]
DeployPrincipal = Annotated[Principal, _requiring(Scope.DEPLOY)]
AdminPrincipal = Annotated[Principal, _requiring(Scope.ADMIN)]

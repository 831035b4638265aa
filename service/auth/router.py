from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from service.auth.dependencies import AdminPrincipal
from service.auth.repository import TokenRepository
from service.auth.schemas import TokenCreate, TokenCreated, TokenOut
from service.auth.service import TokenService
from service.kit.openapi import problems
from service.kit.pagination import Page, PageDep
from service.kit.state import SessionDep, StateDep

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=problems(401, 403, 422))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
async def create_token(
    body: TokenCreate, principal: AdminPrincipal, session: SessionDep
) -> TokenCreated:
    """Create an API token. The token itself is in this response only."""
    token, raw = await TokenService(TokenRepository(session)).create(body, principal.name)
    shown = TokenOut.model_validate(token, from_attributes=True)
    return TokenCreated(**shown.model_dump(), token=raw)


@router.get("", response_model=Page[TokenOut])
async def list_tokens(_: AdminPrincipal, session: SessionDep, page: PageDep) -> Page[TokenOut]:
    """Active (not revoked, not expired) tokens; secrets are never listed."""
    rows = await TokenService(TokenRepository(session)).list(page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda t: t.id)
    return Page(
        items=[TokenOut.model_validate(t, from_attributes=True) for t in items], next_cursor=cursor
    )


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
async def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    _: AdminPrincipal,
    session: SessionDep,
    state: StateDep,
) -> None:
    """Revoke a token; requests carrying it get 401 from now on."""
    await TokenService(TokenRepository(session), state.token_cache).revoke(token_id)

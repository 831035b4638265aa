from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from service.auth.dependencies import AdminPrincipal
from service.auth.schemas import TokenCreate, TokenCreated, TokenOut
from service.auth.service import TokenService
from service.kit.openapi import created, problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.state import app_state

router = APIRouter(
    route_class=StrictRoute,
    prefix="/v1/tokens",
    tags=["tokens"],
    responses=problems(401, 403, 422),
)


async def _service(request: Request) -> TokenService:
    state = app_state(request)
    return TokenService(state.db, state.token_cache)


Tokens = Annotated[TokenService, Depends(_service)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
async def create_token(
    body: TokenCreate, principal: AdminPrincipal, tokens: Tokens, response: Response
) -> TokenCreated:
    """Create an API token. The token itself is in this response only."""
    token, raw = await tokens.create(body, principal.name)
    created(response, f"/v1/tokens/{token.id}")
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=raw)


@router.get("", response_model=Page[TokenOut])
async def list_tokens(_: AdminPrincipal, tokens: Tokens, page: PageDep) -> Page[TokenOut]:
    """Active (not revoked, not expired) tokens; secrets are never listed."""
    rows = await tokens.list(page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda t: t.id)
    return Page(items=[TokenOut.model_validate(t) for t in items], next_cursor=cursor)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
async def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _: AdminPrincipal, tokens: Tokens
) -> None:
    """Revoke a token; requests carrying it get 401 from now on."""
    await tokens.revoke(token_id)

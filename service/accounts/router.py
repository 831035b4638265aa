from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from service.accounts.schemas import AccountCreate, AccountOut, AccountUpdate
from service.accounts.service import AccountService
from service.auth.dependencies import AdminPrincipal, ReadPrincipal
from service.kit.names import account_alias
from service.kit.openapi import created, problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.state import app_state

router = APIRouter(
    route_class=StrictRoute,
    prefix="/v1/accounts",
    tags=["accounts"],
    responses=problems(401, 403, 422),
)

AliasPath = Annotated[str, account_alias(Path)]


async def _service(request: Request) -> AccountService:
    state = app_state(request)
    return AccountService(state.db, state.secret_box)


Accounts = Annotated[AccountService, Depends(_service)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=AccountOut, responses=problems(409)
)
async def create_account(
    body: AccountCreate, _: AdminPrincipal, accounts: Accounts, response: Response
) -> AccountOut:
    """Register FC credentials. The secret is encrypted at rest and never returned."""
    account = await accounts.create(body)
    created(response, f"/v1/accounts/{account.alias}")
    return AccountOut.model_validate(account)


@router.get("", response_model=Page[AccountOut])
async def list_accounts(_: ReadPrincipal, accounts: Accounts, page: PageDep) -> Page[AccountOut]:
    rows = await accounts.list(page.after_str(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda a: a.alias)
    return Page(items=[AccountOut.model_validate(a) for a in items], next_cursor=cursor)


@router.get("/{alias}", response_model=AccountOut, responses=problems(404))
async def get_account(alias: AliasPath, _: ReadPrincipal, accounts: Accounts) -> AccountOut:
    return AccountOut.model_validate(await accounts.get(alias))


@router.patch("/{alias}", response_model=AccountOut, responses=problems(404, 409))
async def update_account(
    alias: AliasPath, body: AccountUpdate, _: AdminPrincipal, accounts: Accounts
) -> AccountOut:
    """Change fields; omitted ones stay. Send a new secret to rotate credentials."""
    return AccountOut.model_validate(await accounts.update(alias, body))


@router.delete("/{alias}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409))
async def delete_account(alias: AliasPath, _: AdminPrincipal, accounts: Accounts) -> None:
    """Delete an account; refused (409) while functions use it."""
    await accounts.delete(alias)

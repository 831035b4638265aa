from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.functions.paths import FUNCTION_PREFIX, AccountPath, FunctionPath, function_path
from service.functions.schemas import DiffOut, FunctionCreate, FunctionOut, RevisionOut
from service.functions.service import FunctionService
from service.kit.names import account_alias
from service.kit.openapi import created, problems
from service.kit.pagination import InvalidCursor, Page, PageDep
from service.kit.strict_route import StrictRoute
from service.models.function import FunctionRef
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["functions"], responses=problems(401, 403, 422))

RevisionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def _service(request: Request) -> FunctionService:
    state = app_state(request)
    return FunctionService(state.db, state.secret_box, state.gateway)


Functions = Annotated[FunctionService, Depends(_service)]


def _after(after: str | None) -> FunctionRef | None:
    if after is None:
        return None
    account, sep, name = after.partition("/")
    if not sep or not account or not name:
        raise InvalidCursor()
    return FunctionRef(account, name)


@router.post(
    "/v1/accounts/{account}/functions",
    status_code=status.HTTP_201_CREATED,
    response_model=FunctionOut,
    responses=problems(404, 409, 502),
)
async def register_function(
    account: AccountPath,
    body: FunctionCreate,
    principal: DeployPrincipal,
    functions: Functions,
    response: Response,
) -> FunctionOut:
    """Manage a function of this account: new (deployed later) or adopted from FC (its live
    state becomes revision 1). The same name may be managed in several accounts."""
    ref = FunctionRef(account, body.name)
    function = await functions.register(ref, body.adopt, principal.name)
    created(response, function_path(ref))
    return FunctionOut.model_validate(function)


async def _page(
    functions: FunctionService, account: str | None, page: PageDep
) -> Page[FunctionOut]:
    rows = await functions.page(account, _after(page.after_str()), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda f: str(f.ref))
    return Page(items=[FunctionOut.model_validate(f) for f in items], next_cursor=cursor)


@router.get("/v1/functions", response_model=Page[FunctionOut])
async def list_functions(
    _: ReadPrincipal,
    functions: Functions,
    page: PageDep,
    account: Annotated[
        str | None, account_alias(Query, "Only the functions of this account.")
    ] = None,
) -> Page[FunctionOut]:
    """Every managed function, by account and name."""
    return await _page(functions, account, page)


@router.get("/v1/accounts/{account}/functions", response_model=Page[FunctionOut])
async def list_account_functions(
    account: AccountPath, _: ReadPrincipal, functions: Functions, page: PageDep
) -> Page[FunctionOut]:
    """The managed functions of one account, by name."""
    return await _page(functions, account, page)


@router.get(FUNCTION_PREFIX, response_model=FunctionOut, responses=problems(404))
async def get_function(ref: FunctionPath, _: ReadPrincipal, functions: Functions) -> FunctionOut:
    return FunctionOut.model_validate(await functions.get(ref))


@router.delete(
    FUNCTION_PREFIX, status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409, 502)
)
async def remove_function(
    ref: FunctionPath,
    _: DeployPrincipal,
    functions: Functions,
    base_revision: Annotated[
        int,
        Query(
            ge=0,
            le=2**31 - 1,
            description="The head revision you expect (0 for a function never deployed); "
            "409 when the function has moved on.",
        ),
    ],
    delete_remote: Annotated[bool, Query(description="Also delete the function in FC.")] = False,
) -> None:
    """Stop managing a function (and delete it from FC with delete_remote=true)."""
    await functions.remove(ref, base_revision, delete_remote)


@router.get(
    FUNCTION_PREFIX + "/revisions", response_model=Page[RevisionOut], responses=problems(404)
)
async def list_revisions(
    ref: FunctionPath, _: ReadPrincipal, functions: Functions, page: PageDep
) -> Page[RevisionOut]:
    """Newest first."""
    rows = await functions.revisions(ref, page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda r: r.number)
    return Page(items=[RevisionOut.model_validate(r) for r in items], next_cursor=cursor)


@router.get(
    FUNCTION_PREFIX + "/revisions/{number}", response_model=RevisionOut, responses=problems(404)
)
async def get_revision(
    ref: FunctionPath, number: RevisionNumber, _: ReadPrincipal, functions: Functions
) -> RevisionOut:
    return RevisionOut.model_validate(await functions.revision(ref, number))


@router.get(FUNCTION_PREFIX + "/diff", response_model=DiffOut, responses=problems(404))
async def diff_revisions(
    ref: FunctionPath,
    _: ReadPrincipal,
    functions: Functions,
    from_: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1)],
    to: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> DiffOut:
    """Field-level changes from revision `from` to revision `to`."""
    return await functions.diff(ref, from_, to)

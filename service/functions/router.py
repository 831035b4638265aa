from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.functions.schemas import DiffOut, FunctionCreate, FunctionOut, RevisionOut
from service.functions.service import FunctionService
from service.kit.openapi import problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_query import StrictQueryRoute
from service.state import app_state

router = APIRouter(
    route_class=StrictQueryRoute,
    prefix="/v1/functions",
    tags=["functions"],
    responses=problems(401, 403, 422),
)

NamePath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")]
RevisionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def _service(request: Request) -> FunctionService:
    state = app_state(request)
    return FunctionService(state.db, state.secret_box, state.gateway)


Functions = Annotated[FunctionService, Depends(_service)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FunctionOut,
    responses=problems(409, 502),
)
async def register_function(
    body: FunctionCreate, principal: DeployPrincipal, functions: Functions
) -> FunctionOut:
    """Manage a function: new (deployed later) or adopted from FC (its live state → revision 1)."""
    function = await functions.register(body.name, body.account, body.adopt, principal.name)
    return FunctionOut.model_validate(function)


@router.get("", response_model=Page[FunctionOut])
async def list_functions(
    _: ReadPrincipal, functions: Functions, page: PageDep
) -> Page[FunctionOut]:
    rows = await functions.page(page.after_str(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda function: function.name)
    return Page(items=[FunctionOut.model_validate(f) for f in items], next_cursor=cursor)


@router.get("/{name}", response_model=FunctionOut, responses=problems(404))
async def get_function(name: NamePath, _: ReadPrincipal, functions: Functions) -> FunctionOut:
    return FunctionOut.model_validate(await functions.get(name))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409, 502))
async def remove_function(
    name: NamePath,
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
    await functions.remove(name, base_revision, delete_remote)


@router.get("/{name}/revisions", response_model=Page[RevisionOut], responses=problems(404))
async def list_revisions(
    name: NamePath, _: ReadPrincipal, functions: Functions, page: PageDep
) -> Page[RevisionOut]:
    """Newest first."""
    rows = await functions.revisions(name, page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda r: r.number)
    return Page(items=[RevisionOut.model_validate(r) for r in items], next_cursor=cursor)


@router.get("/{name}/revisions/{number}", response_model=RevisionOut, responses=problems(404))
async def get_revision(
    name: NamePath, number: RevisionNumber, _: ReadPrincipal, functions: Functions
) -> RevisionOut:
    return RevisionOut.model_validate(await functions.revision(name, number))


@router.get("/{name}/diff", response_model=DiffOut, responses=problems(404))
async def diff_revisions(
    name: NamePath,
    _: ReadPrincipal,
    functions: Functions,
    from_: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1)],
    to: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> DiffOut:
    """Field-level changes from revision `from` to revision `to`."""
    return await functions.diff(name, from_, to)

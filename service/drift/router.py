from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.drift.schemas import DriftCheckOut, DriftEventOut, DriftScanOut
from service.drift.service import DriftService
from service.functions.paths import FUNCTION_PREFIX, FunctionPath
from service.kit.names import account_alias, fc_name
from service.kit.openapi import problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.models.drift import DriftEventStatus
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["drift"], responses=problems(401, 403, 422))


async def _service(request: Request) -> DriftService:
    state = app_state(request)
    return DriftService(state.db, state.secret_box, state.gateway)


Drift = Annotated[DriftService, Depends(_service)]


@router.post(
    FUNCTION_PREFIX + "/drift-check", response_model=DriftCheckOut, responses=problems(404, 502)
)
async def check_function_drift(
    ref: FunctionPath, _: DeployPrincipal, drift: Drift
) -> DriftCheckOut:
    """Compare the live function with its applied state now; opens or resolves drift events."""
    return DriftCheckOut.model_validate(await drift.check(ref))


@router.post("/v1/drift-checks", response_model=DriftScanOut)
async def check_all_drift(_: DeployPrincipal, drift: Drift, request: Request) -> DriftScanOut:
    """Check every managed function (bounded concurrency, FC throttling honoured)."""
    concurrency = app_state(request).settings.drift_scan_concurrency
    return DriftScanOut(**await drift.check_all(concurrency))


@router.get("/v1/drift-events", response_model=Page[DriftEventOut])
async def list_drift_events(
    _: ReadPrincipal,
    drift: Drift,
    page: PageDep,
    account: Annotated[
        str | None, account_alias(Query, "Only events of functions in this account.")
    ] = None,
    function: Annotated[
        str | None, fc_name(Query, "Only events of functions with this name.")
    ] = None,
    status: Annotated[DriftEventStatus | None, Query()] = None,
) -> Page[DriftEventOut]:
    """Newest first."""
    rows = await drift.events(account, function, status, page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda event: event.id)
    return Page(items=[DriftEventOut.model_validate(e) for e in items], next_cursor=cursor)


@router.get("/v1/drift-events/{event_id}", response_model=DriftEventOut, responses=problems(404))
async def get_drift_event(
    event_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _: ReadPrincipal, drift: Drift
) -> DriftEventOut:
    return DriftEventOut.model_validate(await drift.event(event_id))

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.drift.repository import DriftRepository
from service.drift.schemas import DriftCheckOut, DriftEventOut, DriftScanOut
from service.drift.service import DriftService
from service.functions.router import NamePath
from service.kit.errors import NotFound
from service.kit.openapi import problems
from service.kit.pagination import Page, PageDep
from service.kit.state import SessionDep, StateDep
from service.models import DriftEvent

router = APIRouter(tags=["drift"], responses=problems(401, 403, 422))


async def _service(state: StateDep) -> DriftService:
    return DriftService(state.sessions, state.secret_box, state.gateway)


Drift = Annotated[DriftService, Depends(_service)]


def present(event: DriftEvent, function: str) -> DriftEventOut:
    return DriftEventOut(
        id=event.id,
        function=function,
        status=event.status,
        changes=event.changes,
        deployment_id=event.deployment_id,
        opened_at=event.opened_at,
        updated_at=event.updated_at,
        resolved_at=event.resolved_at,
        resolution=event.resolution,
    )


@router.post(
    "/v1/functions/{name}/drift-check", response_model=DriftCheckOut, responses=problems(404, 502)
)
async def check_function(name: NamePath, _: DeployPrincipal, drift: Drift) -> DriftCheckOut:
    """Compare the live function with its applied state now; opens or resolves drift events."""
    result = await drift.check(name)
    return DriftCheckOut(
        function=result.function,
        drifted=result.drifted,
        changes=result.changes,
        event_id=result.event_id,
        interrupted_deployment=result.interrupted_deployment,
    )


@router.post("/v1/drift-checks", response_model=DriftScanOut)
async def check_all(_: DeployPrincipal, drift: Drift, state: StateDep) -> DriftScanOut:
    """Check every managed function (bounded concurrency, FC throttling honoured)."""
    return DriftScanOut(**await drift.check_all(state.settings.drift_scan_concurrency))


@router.get("/v1/drift-events", response_model=Page[DriftEventOut])
async def list_events(
    _: ReadPrincipal,
    session: SessionDep,
    page: PageDep,
    function: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
) -> Page[DriftEventOut]:
    """Newest first."""
    rows = await DriftRepository(session).page(function, status, page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda row: row[0].id)
    return Page(items=[present(e, n) for e, n in items], next_cursor=cursor)


@router.get("/v1/drift-events/{event_id}", response_model=DriftEventOut, responses=problems(404))
async def get_event(
    event_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _: ReadPrincipal, session: SessionDep
) -> DriftEventOut:
    found = await DriftRepository(session).get(event_id)
    if found is None:
        raise NotFound(f"no drift event {event_id}")
    return present(*found)

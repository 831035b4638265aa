from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from service.kit.migrations import current_revisions
from service.kit.openapi import problems
from service.kit.strict_route import StrictRoute
from service.state import StateDep

router = APIRouter(route_class=StrictRoute, tags=["health"])
log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    details: dict[str, str] = Field(
        default_factory=dict,
        description="Facts that do not decide readiness, e.g. emulator_sandbox: how the "
        "embedded FC emulator runs function code.",
    )


# The probes refuse undeclared query parameters too (StrictRoute): 422.
@router.get("/healthz", response_model=Health, responses=problems(422))
async def get_health() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get(
    "/readyz", response_model=Readiness, responses={503: {"model": Readiness}, **problems(422)}
)
async def get_readiness(state: StateDep) -> JSONResponse:
    """Readiness: the database answers with migrations at head, and Redis if configured."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            # Reading the migration state is the round trip that proves the database answers.
            current = await current_revisions(state.db.engine)
        checks["database"] = "ok"
        checks["migrations"] = (
            "ok"
            if set(current) == set(state.migration_heads)
            else f"at {','.join(current) or 'none'}, expected {','.join(state.migration_heads)}"
        )
    except Exception as exc:  # any failure means "not ready", with its kind
        log.warning("readiness: database check failed: %s", type(exc).__name__)
        checks["database"] = f"unavailable ({type(exc).__name__})"
    if state.redis is not None:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await state.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            log.warning("readiness: redis check failed: %s", type(exc).__name__)
            checks["redis"] = f"unavailable ({type(exc).__name__})"
    ready = all(v == "ok" for v in checks.values())
    details = {}
    if state.emulator_sandbox is not None:
        # How the embedded emulator runs function code (sandboxed, or not and why).
        details["emulator_sandbox"] = state.emulator_sandbox
    body = Readiness(status="ok" if ready else "unavailable", checks=checks, details=details)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

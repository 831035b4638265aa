from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from service.auth.dependencies import ReadPrincipal
from service.functions.paths import FUNCTION_PREFIX, FunctionPath
from service.kit.openapi import problems
from service.kit.strict_route import StrictRoute
from service.monitoring.gateway import CloudMonitorGateway
from service.monitoring.page import metrics_page
from service.monitoring.schemas import FunctionMetricsOut
from service.monitoring.service import DEFAULT_PERIOD, MetricsService
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["functions"], responses=problems(401, 403, 422))

# Stateless but for its SDK clients (one per account credentials), shared by requests.
_GATEWAY = CloudMonitorGateway()

_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "HTML"}
}
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
}


async def _service(request: Request) -> MetricsService:
    state = app_state(request)
    return MetricsService(state.db, state.secret_box, _GATEWAY)


Metrics = Annotated[MetricsService, Depends(_service)]
From = Annotated[
    datetime | None,
    Query(
        alias="from",
        description="Start (ISO 8601; without a zone: UTC). Default: an hour before `to`.",
    ),
]
To = Annotated[datetime | None, Query(description="End (ISO 8601). Default: now.")]
Period = Annotated[
    int,
    Query(
        ge=1,
        le=86_400,
        description="Seconds per point: 60, 300, 900 or 3600 (CloudMonitor aggregates FC "
        "metrics per minute); an emulator account also takes 1, 5, 10, 15 and 30. "
        "At most 1440 points per query.",
    ),
]
Qualifier = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]*$",
        description="A version or alias: its own figures (FunctionQualifier* metrics). "
        "Default: the whole function.",
    ),
]

_DESCRIPTION = (
    "Read from CloudMonitor (namespace `acs_fc`, DescribeMetricList) with the account's "
    "credentials; an emulator account's emulator answers the same call. Periods are "
    "aligned to `period`; every series has one point per period, so series can be drawn "
    "on one time axis."
)


@router.get(
    f"{FUNCTION_PREFIX}/metrics",
    response_model=FunctionMetricsOut,
    responses=problems(404, 429, 502),
    summary="A function's metrics",
    description="Invocations, errors, throttles, average and p99 duration and concurrent "
    "instances per period, as `[timestamp, value]` points. " + _DESCRIPTION,
)
async def get_function_metrics(
    ref: FunctionPath,
    _: ReadPrincipal,
    metrics: Metrics,
    from_: From = None,
    to: To = None,
    period: Period = DEFAULT_PERIOD,
    qualifier: Qualifier = None,
) -> FunctionMetricsOut:
    return await metrics.function_metrics(ref, qualifier, from_, to, period)


@router.get(
    f"{FUNCTION_PREFIX}/metrics.html",
    response_class=HTMLResponse,
    responses={**_HTML, **problems(404, 429, 502)},
    summary="A function's metrics as a page",
    description="The same figures as `/metrics`, drawn as inline SVG charts in a "
    "self-contained HTML page (no scripts or external resources). " + _DESCRIPTION,
)
async def get_function_metrics_page(
    ref: FunctionPath,
    _: ReadPrincipal,
    metrics: Metrics,
    from_: From = None,
    to: To = None,
    period: Period = DEFAULT_PERIOD,
    qualifier: Qualifier = None,
) -> HTMLResponse:
    data = await metrics.function_metrics(ref, qualifier, from_, to, period)
    return HTMLResponse(metrics_page(data), headers=_PAGE_HEADERS)

"""GET /metrics: Prometheus' text format, for a scraper holding a read-scope token.

Left out of the OpenAPI document: it is not part of the JSON API (no generated
client should call it), and whether it needs a token depends on a setting
(FCPLANE_METRICS_PUBLIC), which a static document cannot say.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client.exposition import choose_encoder
from starlette.responses import Response

from service.auth.dependencies import authenticate
from service.auth.schemas import Scope
from service.kit.strict_route import StrictRoute
from service.state import app_state

router = APIRouter(route_class=StrictRoute, include_in_schema=False)


@router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request) -> Response:
    """Prometheus metrics of this process, and the database's counts at this moment."""
    state = app_state(request)
    if not state.settings.metrics_public:  # else a read-scope token
        await authenticate(request, Scope.READ)
    telemetry = request.app.state.telemetry
    await telemetry.collector.refresh(state)
    # Prometheus' text format 0.0.4 unless the scraper asks for OpenMetrics.
    encode, media_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(telemetry.metrics.registry), headers={"Content-Type": media_type})

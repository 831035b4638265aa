"""Deploy outcomes as webhook events, written in the same transaction as the outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Deployment
from service.models.function import FunctionRef
from service.telemetry.metrics import count_deploy
from service.webhooks.outbox import emit


async def emit_deployment(
    session: AsyncSession,
    event_type: str,
    function: FunctionRef,
    deployment: Deployment,
    **details: Any,
) -> None:
    count_deploy(str(deployment.kind), str(deployment.status))  # every outcome passes here
    payload = {
        "deployment_id": deployment.id,
        "kind": deployment.kind,
        "strategy": deployment.strategy,
        "status": deployment.status,
        "base_revision": deployment.base_revision,
        "from_revision": deployment.from_revision,
        "to_revision": deployment.to_revision,
        "message": deployment.message,
        **details,
    }
    await emit(
        session,
        event_type,
        function,
        payload,
        actor=deployment.created_by,
        resource=f"/v1/deployments/{deployment.id}",
    )

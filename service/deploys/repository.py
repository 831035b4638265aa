from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Deployment, Function, SavedPlan
from service.models.base import utcnow


class DeploymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, deployment_id: str) -> Deployment | None:
        return await self.session.get(Deployment, deployment_id)

    async def mark_interrupted(self, deployment_id: str) -> None:
        """A deploy whose claim ran out died after pushing: say so (unless it already ended)."""
        deployment = await self.get(deployment_id)
        if deployment is not None and deployment.status == "in_progress":
            deployment.status = "interrupted"
            deployment.finished_at = utcnow()
            deployment.error = {
                "code": "interrupted",
                "detail": "the deploy stopped after pushing to FC and before recording the "
                "result; its change shows up as drift",
            }

    async def by_function_and_key(self, name: str, key: str) -> Deployment | None:
        return await self.session.scalar(
            select(Deployment)
            .join(Function, Function.id == Deployment.function_id)
            .where(Function.name == name, Deployment.idempotency_key == key)
        )

    async def page(self, function_id: int, after: str | None, limit: int) -> list[Deployment]:
        query = (
            select(Deployment)
            .where(Deployment.function_id == function_id)
            .order_by(Deployment.started_at.desc(), Deployment.id.desc())
            .limit(limit)
        )
        if after is not None:
            marker = await self.get(after)
            if marker is not None:
                query = query.where(
                    or_(
                        Deployment.started_at < marker.started_at,
                        and_(Deployment.started_at == marker.started_at, Deployment.id < marker.id),
                    )
                )
        return list((await self.session.scalars(query)).all())

    async def add(self, deployment: Deployment) -> None:
        self.session.add(deployment)
        await self.session.flush()

    async def finish(self, deployment: Deployment, **values: Any) -> None:
        """Write how a deployment ended, without loading its row first."""
        await self.session.execute(
            update(Deployment).where(Deployment.id == deployment.id).values(**values)
        )
        for key, value in values.items():
            setattr(deployment, key, value)

    async def plan(self, plan_id: str) -> SavedPlan | None:
        return await self.session.get(SavedPlan, plan_id)

    async def add_plan(self, plan: SavedPlan) -> None:
        self.session.add(plan)
        await self.session.flush()

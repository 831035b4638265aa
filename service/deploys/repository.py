"""All SQL of deployments and saved plans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import contains_eager, selectinload

from service.kit.pagination import InvalidCursor
from service.kit.repository import Repository
from service.models import Account, Deployment, Function, SavedPlan
from service.models.base import utcnow
from service.models.deployment import DeploymentStatus
from service.models.function import FunctionRef


def _presentable() -> Select[Deployment]:
    """Deployments with what presenting them needs: the function's name, the revision."""
    return (
        select(Deployment)
        .join(Function, Function.id == Deployment.function_id)
        .join(Account, Account.id == Function.account_id)
        .options(
            contains_eager(Deployment.function).contains_eager(Function.account),
            selectinload(Deployment.revision),
        )
    )


class DeploymentRepository(Repository[Deployment]):
    model = Deployment

    async def presentable(self, deployment_id: str) -> Deployment | None:
        return await self.session.scalar(_presentable().where(Deployment.id == deployment_id))

    async def mark_interrupted(self, deployment_id: str) -> None:
        """A deploy whose claim ran out died after pushing: say so (unless it already ended)."""
        await self.session.execute(
            update(Deployment)
            .where(
                Deployment.id == deployment_id,
                Deployment.status == DeploymentStatus.IN_PROGRESS,
            )
            .values(
                status=DeploymentStatus.INTERRUPTED,
                finished_at=utcnow(),
                pushed_state=None,
                error={
                    "code": "interrupted",
                    "detail": "the deploy stopped after pushing to FC and before recording the "
                    "result; its change shows up as drift",
                },
            )
            .execution_options(synchronize_session=False)
        )

    async def by_function_and_key(self, ref: FunctionRef, key: str) -> Deployment | None:
        return await self.session.scalar(
            _presentable().where(
                Account.alias == ref.account,
                Function.name == ref.name,
                Deployment.idempotency_key == key,
            )
        )

    async def pushed_state(self, deployment_id: str) -> dict[str, Any] | None:
        """What an in-progress deployment is pushing."""
        return await self.session.scalar(
            select(Deployment.pushed_state).where(Deployment.id == deployment_id)
        )

    async def page(self, function_id: int, after: str | None, limit: int) -> list[Deployment]:
        query = (
            _presentable()
            .where(Deployment.function_id == function_id)
            .order_by(Deployment.started_at.desc(), Deployment.id.desc())
            .limit(limit)
        )
        if after is not None:
            marker = await self.get(after)
            if marker is None or marker.function_id != function_id:
                raise InvalidCursor()
            query = query.where(
                or_(
                    Deployment.started_at < marker.started_at,
                    and_(Deployment.started_at == marker.started_at, Deployment.id < marker.id),
                )
            )
        return list((await self.session.scalars(query)).all())

    async def finish(self, deployment: Deployment, **values: Any) -> None:
        """Write how a deployment ended, without loading its row first."""
        await self.session.execute(
            update(Deployment)
            .where(Deployment.id == deployment.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        for key, value in values.items():
            setattr(deployment, key, value)

    async def plan(self, plan_id: str) -> SavedPlan | None:
        return await self.session.get(SavedPlan, plan_id)

"""The project tables' statements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from service.kit.repository import Repository
from service.models import Project, ProjectDeployment, ProjectRevision, ProjectTarget


class ProjectRepository(Repository[Project]):
    model = Project

    async def by_name(self, name: str) -> Project | None:
        return await self.session.scalar(select(Project).where(Project.name == name))

    async def by_name_for_update(self, name: str) -> Project | None:
        query = select(Project).where(Project.name == name).with_for_update(key_share=True)
        return await self.session.scalar(query)

    async def page(self, after: str | None, limit: int) -> list[Project]:
        query = select(Project).order_by(Project.name).limit(limit)
        if after is not None:
            query = query.where(Project.name > after)
        return list((await self.session.scalars(query)).all())

    async def revision(self, project_id: int, number: int) -> ProjectRevision | None:
        return await self.session.scalar(
            select(ProjectRevision).where(
                ProjectRevision.project_id == project_id, ProjectRevision.number == number
            )
        )

    async def revisions(
        self, project_id: int, after: int | None, limit: int
    ) -> list[ProjectRevision]:
        query = (
            select(ProjectRevision)
            .where(ProjectRevision.project_id == project_id)
            .order_by(ProjectRevision.number.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(ProjectRevision.number < after)
        return list((await self.session.scalars(query)).all())

    async def targets(self, project_id: int) -> list[ProjectTarget]:
        query = (
            select(ProjectTarget)
            .options(selectinload(ProjectTarget.account))
            .where(ProjectTarget.project_id == project_id)
            .order_by(ProjectTarget.id)
        )
        return list((await self.session.scalars(query)).all())

    async def target(self, project_id: int, account_id: int) -> ProjectTarget | None:
        return await self.session.scalar(
            select(ProjectTarget).where(
                ProjectTarget.project_id == project_id, ProjectTarget.account_id == account_id
            )
        )

    async def target_for_update(self, project_id: int, account_id: int) -> ProjectTarget | None:
        return await self.session.scalar(
            select(ProjectTarget)
            .where(ProjectTarget.project_id == project_id, ProjectTarget.account_id == account_id)
            .with_for_update(key_share=True)
        )

    async def save_deployment(self, row: ProjectDeployment) -> None:
        """Write a deployment created in an earlier transaction, as it is now."""
        await self.session.merge(row)

    async def claim_target(
        self, target_id: int, claim: str, now: datetime, until: datetime
    ) -> bool:
        """Take the target for one deploy unless another holds it (expired claims lapse)."""
        result = await self.session.execute(
            update(ProjectTarget)
            .where(
                ProjectTarget.id == target_id,
                or_(ProjectTarget.claim_id.is_(None), ProjectTarget.claim_until < now),
            )
            .values(claim_id=claim, claim_until=until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def deployment(self, project_id: int, deployment_id: str) -> ProjectDeployment | None:
        return await self.session.scalar(
            select(ProjectDeployment).where(
                ProjectDeployment.project_id == project_id, ProjectDeployment.id == deployment_id
            )
        )

    async def deployments(
        self, project_id: int, after: str | None, limit: int
    ) -> list[ProjectDeployment]:
        query = (
            select(ProjectDeployment)
            .where(ProjectDeployment.project_id == project_id)
            .order_by(ProjectDeployment.started_at.desc(), ProjectDeployment.id)
            .limit(limit)
        )
        if after is not None:
            started = select(ProjectDeployment.started_at).where(ProjectDeployment.id == after)
            query = query.where(ProjectDeployment.started_at < started.scalar_subquery())
        return list((await self.session.scalars(query)).all())

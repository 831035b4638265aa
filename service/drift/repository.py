from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import DriftEvent, Function


class DriftRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_event(self, function_id: int) -> DriftEvent | None:
        return await self.session.scalar(
            select(DriftEvent).where(
                DriftEvent.function_id == function_id, DriftEvent.status == "open"
            )
        )

    async def open_events(self, function_ids: list[int]) -> dict[int, DriftEvent]:
        """The open event of each of these functions that has one (at most one each)."""
        rows = await self.session.scalars(
            select(DriftEvent).where(
                DriftEvent.function_id.in_(function_ids), DriftEvent.status == "open"
            )
        )
        return {event.function_id: event for event in rows.all()}

    async def get(self, event_id: int) -> tuple[DriftEvent, str] | None:
        row = (
            await self.session.execute(
                select(DriftEvent, Function.name)
                .join(Function, Function.id == DriftEvent.function_id)
                .where(DriftEvent.id == event_id)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def page(
        self, function: str | None, status: str | None, after: int | None, limit: int
    ) -> list[tuple[DriftEvent, str]]:
        query = (
            select(DriftEvent, Function.name)
            .join(Function, Function.id == DriftEvent.function_id)
            .order_by(DriftEvent.id.desc())
            .limit(limit)
        )
        if function is not None:
            query = query.where(Function.name == function)
        if status is not None:
            query = query.where(DriftEvent.status == status)
        if after is not None:
            query = query.where(DriftEvent.id < after)
        return [(e, n) for e, n in (await self.session.execute(query)).all()]

    async def add(self, event: DriftEvent) -> DriftEvent:
        self.session.add(event)
        await self.session.flush()
        return event

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from service.kit.repository import Repository
from service.models import Account, DriftEvent, Function
from service.models.drift import DriftEventStatus


class DriftRepository(Repository[DriftEvent]):
    model = DriftEvent

    async def open_event(self, function_id: int, alias: str | None = None) -> DriftEvent | None:
        """The open event of the function itself, or (``alias``) of one of its aliases."""
        return await self.session.scalar(
            select(DriftEvent).where(
                DriftEvent.function_id == function_id,
                DriftEvent.alias.is_(None) if alias is None else DriftEvent.alias == alias,
                DriftEvent.status == DriftEventStatus.OPEN,
            )
        )

    async def open_events(self, function_ids: list[int]) -> dict[int, DriftEvent]:
        """The open event of each of these functions that has one (at most one each)."""
        rows = await self.session.scalars(
            select(DriftEvent).where(
                DriftEvent.function_id.in_(function_ids),
                DriftEvent.alias.is_(None),
                DriftEvent.status == DriftEventStatus.OPEN,
            )
        )
        return {event.function_id: event for event in rows.all()}

    def _with_function(self) -> Select[DriftEvent]:
        return (
            select(DriftEvent)
            .join(Function, Function.id == DriftEvent.function_id)
            .join(Account, Account.id == Function.account_id)
            .options(contains_eager(DriftEvent.function).contains_eager(Function.account))
        )

    async def with_function(self, event_id: int) -> DriftEvent | None:
        return await self.session.scalar(self._with_function().where(DriftEvent.id == event_id))

    async def page(
        self,
        account: str | None,
        function: str | None,
        status: DriftEventStatus | None,
        after: int | None,
        limit: int,
    ) -> list[DriftEvent]:
        query = self._with_function().order_by(DriftEvent.id.desc()).limit(limit)
        if account is not None:
            query = query.where(Account.alias == account)
        if function is not None:
            query = query.where(Function.name == function)
        if status is not None:
            query = query.where(DriftEvent.status == status)
        if after is not None:
            query = query.where(DriftEvent.id < after)
        return list((await self.session.scalars(query)).all())

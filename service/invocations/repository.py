from __future__ import annotations

from sqlalchemy import select

from service.kit.repository import Repository
from service.models.invocation import InvocationRecord


class InvocationRepository(Repository[InvocationRecord]):
    model = InvocationRecord

    async def page(
        self, account_id: int, function_name: str, after: int | None, limit: int
    ) -> list[InvocationRecord]:
        """The function's invocations, newest first (the index covers the whole query)."""
        query = (
            select(InvocationRecord)
            .where(
                InvocationRecord.account_id == account_id,
                InvocationRecord.function_name == function_name,
            )
            .order_by(InvocationRecord.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(InvocationRecord.id < after)
        return list((await self.session.scalars(query)).all())

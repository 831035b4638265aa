"""SQL of the chat platform layer: integrations, user mappings, replay receipts,
failed-delivery records and the approval rows the DingTalk approval page reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.repository import Repository
from service.models import ChatIntegration, ChatReceipt, ChatUser


class IntegrationRepository(Repository[ChatIntegration]):
    model = ChatIntegration

    async def by_name(self, name: str) -> ChatIntegration | None:
        found: ChatIntegration | None = await self.session.scalar(
            select(ChatIntegration).where(ChatIntegration.name == name)
        )
        return found

    async def page(self, after: int | None, limit: int) -> list[ChatIntegration]:
        query = select(ChatIntegration).order_by(ChatIntegration.id).limit(limit)
        if after is not None:
            query = query.where(ChatIntegration.id > after)
        return list((await self.session.scalars(query)).all())


class ChatUserRepository(Repository[ChatUser]):
    model = ChatUser

    async def page(self, integration_id: int, after: str | None, limit: int) -> list[ChatUser]:
        query = (
            select(ChatUser)
            .where(ChatUser.integration_id == integration_id)
            .order_by(ChatUser.platform_user_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(ChatUser.platform_user_id > after)
        return list((await self.session.scalars(query)).all())


class ReceiptRepository:
    """Keys of requests already taken: a replayed request finds its key here."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, integration_id: int, key: str, now: datetime) -> bool:
        """Record ``key``; False when it was already there (a replay).

        An insert that ignores conflicts, not read-then-write: two copies of one
        request arriving at once must not both be taken.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(ChatReceipt)
            .values(integration_id=integration_id, key=key, received_at=now)
            .on_conflict_do_nothing(index_elements=[ChatReceipt.integration_id, ChatReceipt.key])
            .returning(ChatReceipt.key)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(ChatReceipt).where(ChatReceipt.received_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ApiToken


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        await self.session.flush()
        return token

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        result = await self.session.execute(
            select(ApiToken).where(ApiToken.token_hash == token_hash)
        )
        return result.scalar_one_or_none()

    async def active(self, token_id: int, now: datetime) -> ApiToken | None:
        result = await self.session.execute(
            select(ApiToken).where(
                ApiToken.id == token_id,
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            )
        )
        return result.scalar_one_or_none()

    async def list_active(self, now: datetime, after: int | None, limit: int) -> list[ApiToken]:
        query = select(ApiToken).where(
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
        if after is not None:
            query = query.where(ApiToken.id > after)
        result = await self.session.execute(query.order_by(ApiToken.id).limit(limit))
        return list(result.scalars())

    async def any_exist(self) -> bool:
        return bool(await self.session.scalar(select(exists().where(ApiToken.id.is_not(None)))))

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, or_, select

from service.kit.repository import Repository
from service.models import ApiToken


class TokenRepository(Repository[ApiToken]):
    model = ApiToken

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        return await self.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))

    async def active(self, token_id: int, now: datetime) -> ApiToken | None:
        return await self.session.scalar(
            select(ApiToken).where(
                ApiToken.id == token_id,
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            )
        )

    async def list_active(self, now: datetime, after: int | None, limit: int) -> list[ApiToken]:
        query = select(ApiToken).where(
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
        if after is not None:
            query = query.where(ApiToken.id > after)
        result = await self.session.scalars(query.order_by(ApiToken.id).limit(limit))
        return list(result.all())

    async def any_exist(self) -> bool:
        return bool(await self.session.scalar(select(exists().where(ApiToken.id.is_not(None)))))

    async def purge(self, cutoff: datetime) -> int:
        """Delete tokens revoked or expired before ``cutoff``; how many."""
        result = await self.session.execute(
            delete(ApiToken).where(or_(ApiToken.revoked_at < cutoff, ApiToken.expires_at < cutoff))
        )
        return int(getattr(result, "rowcount", 0) or 0)

"""Checking live functions against their applied state, one or all (bounded concurrency)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.drift.recorder import DriftResult, record_check
from service.functions.repository import FunctionRepository
from service.functions.service import FunctionService
from service.functions.state import live_state
from service.kit.crypto import SecretBox
from service.kit.errors import DomainError
from service.models import Function

log = logging.getLogger(__name__)


class DriftService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], box: SecretBox, gateway: FcGateway
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.gateway = gateway

    async def check(self, name: str) -> DriftResult:
        # Read FC outside any transaction, then record in a short one.
        async with self.sessions() as session:
            functions = FunctionService(FunctionRepository(session), self.box, self.gateway)
            function, account = await functions.get(name)
            access = functions.access(account)
            function_id = function.id
        live: dict[str, Any] | None
        try:
            live = live_state((await self.gateway.get_function(access, name)).body)
        except FcNotFound:
            live = None
        async with self.sessions.begin() as session:
            row = await session.get(Function, function_id, with_for_update=True)
            if row is None:
                raise DomainError(f"function '{name}' was removed during the check")
            return await record_check(session, row, live)

    async def check_all(self, concurrency: int) -> dict[str, Any]:
        async with self.sessions() as session:
            names = await FunctionRepository(session).names()
        limit = asyncio.Semaphore(concurrency)
        drifted: list[str] = []
        failed: dict[str, str] = {}

        async def one(name: str) -> None:
            async with limit:
                try:
                    if (await self.check(name)).drifted:
                        drifted.append(name)
                except DomainError as error:
                    failed[name] = f"{error.code}: {error.detail}"
                    log.warning("drift check of %s failed: %s", name, error.code)

        await asyncio.gather(*(one(n) for n in names))
        return {"checked": len(names), "drifted": sorted(drifted), "failed": failed}

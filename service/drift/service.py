"""Checking live functions against their applied state, one or all (bounded concurrency)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.cloud.access import FcAccess
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.drift.recorder import DriftResult, record_check
from service.drift.repository import DriftRepository
from service.functions.repository import FunctionRepository
from service.functions.service import FunctionService
from service.functions.state import live_state
from service.kit.crypto import SecretBox
from service.kit.db import write_transaction
from service.kit.errors import DomainError
from service.models import Function

log = logging.getLogger(__name__)

# Most checks recorded in one transaction by a scan.
RECORD_BATCH = 100


def _removed(name: str) -> DomainError:
    return DomainError(f"function '{name}' was removed during the check")


@dataclass(frozen=True)
class _Checked:
    function_id: int
    name: str
    live: dict[str, Any] | None


class DriftService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], box: SecretBox, gateway: FcGateway
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.gateway = gateway

    async def _live(self, access: FcAccess, name: str) -> dict[str, Any] | None:
        try:
            return live_state((await self.gateway.get_function(access, name)).body)
        except FcNotFound:
            return None

    async def check(self, name: str) -> DriftResult:
        # Read FC outside any transaction, then record in a short one.
        async with self.sessions() as session:
            functions = FunctionService(FunctionRepository(session), self.box, self.gateway)
            function, account = await functions.get(name)
            access = functions.access(account)
            function_id = function.id
        live = await self._live(access, name)
        async with write_transaction(self.sessions) as session:
            row = await session.get(Function, function_id, with_for_update=True)
            if row is None:
                raise _removed(name)
            return await record_check(session, row, live)

    async def check_all(self, concurrency: int) -> dict[str, Any]:
        """Read every function from FC, ``concurrency`` at a time, while one task records
        the results in batches: one transaction per batch instead of one per function."""
        async with self.sessions() as session:
            functions = FunctionService(FunctionRepository(session), self.box, self.gateway)
            targets = await functions.functions.with_accounts()
            accesses: dict[int, FcAccess] = {}
            for _, _, account in targets:
                if account.id not in accesses:
                    accesses[account.id] = functions.access(account)
        limit = asyncio.Semaphore(concurrency)
        checked: asyncio.Queue[_Checked | None] = asyncio.Queue()
        drifted: list[str] = []
        failed: dict[str, str] = {}

        def fail(name: str, error: DomainError) -> None:
            failed[name] = f"{error.code}: {error.detail}"
            log.warning("drift check of %s failed: %s", name, error.code)

        async def read(function_id: int, name: str, access: FcAccess) -> None:
            async with limit:
                try:
                    live = await self._live(access, name)
                except DomainError as error:
                    fail(name, error)
                    return
            checked.put_nowait(_Checked(function_id, name, live))

        async def record() -> None:
            while (first := await checked.get()) is not None:
                batch = [first]
                while len(batch) < RECORD_BATCH and not checked.empty():
                    item = checked.get_nowait()
                    if item is None:
                        checked.put_nowait(None)  # seen again by the loop condition
                        break
                    batch.append(item)
                await self._record(batch, drifted, fail)

        recorder = asyncio.create_task(record())
        try:
            await asyncio.gather(*(read(fid, name, accesses[a.id]) for fid, name, a in targets))
        finally:
            checked.put_nowait(None)
            # What was read before a failure is still recorded.
            await recorder
        return {"checked": len(targets), "drifted": sorted(drifted), "failed": failed}

    async def _record(
        self,
        batch: list[_Checked],
        drifted: list[str],
        fail: Callable[[str, DomainError], None],
    ) -> None:
        async with write_transaction(self.sessions) as session:
            rows = {
                row.id: row
                for row in await FunctionRepository(session).locked([c.function_id for c in batch])
            }
            events = await DriftRepository(session).open_events(list(rows))
            for c in batch:
                row = rows.get(c.function_id)
                if row is None:
                    fail(c.name, _removed(c.name))
                elif (await record_check(session, row, c.live, events)).drifted:
                    drifted.append(c.name)

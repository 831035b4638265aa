"""Write transactions queue in the event loop on SQLite (one writer), not on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.kit.db import create_sessionmaker, write_transaction
from service.models import CodePackage


async def test_sqlite_writers_queue_and_each_commits(engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(engine)
    order: list[str] = []

    async def writer(name: str, hold: float) -> None:
        async with write_transaction(sessions) as session:
            order.append(f"{name} in")
            await session.execute(text("UPDATE functions SET head_revision = 0 WHERE id = -1"))
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    await asyncio.gather(writer("a", 0.05), writer("b", 0), writer("c", 0))
    if engine.dialect.name == "sqlite":
        assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    else:  # row locks do the work on PostgreSQL: no queue in the process
        assert order[:3] == ["a in", "b in", "c in"]


async def test_a_failed_writer_rolls_back_and_frees_the_queue(engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(engine)

    async def failing() -> None:
        async with write_transaction(sessions) as session:
            session.add(CodePackage(sha256="f" * 64, size=1, checksum="1", data=b"x"))
            await session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    async with write_transaction(sessions) as session:
        found = await session.scalar(select(func.count()).select_from(CodePackage))
    assert found == 0

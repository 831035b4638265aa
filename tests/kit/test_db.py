"""Database.read()/write(): SQLite writers queue in the event loop; a task holds one block."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from service.kit.db import Database, NestedSession
from service.models import CodePackage


async def test_sqlite_writers_queue_and_each_commits(db: Database) -> None:
    order: list[str] = []

    async def writer(name: str, hold: float) -> None:
        async with db.write() as session:
            order.append(f"{name} in")
            await session.execute(text("UPDATE functions SET head_revision = 0 WHERE id = -1"))
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    await asyncio.gather(writer("a", 0.05), writer("b", 0), writer("c", 0))
    if db.dialect == "sqlite":
        assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    else:  # row locks do the work on PostgreSQL: no queue in the process
        assert order[:3] == ["a in", "b in", "c in"]


async def test_a_failed_writer_rolls_back_and_frees_the_queue(db: Database) -> None:
    async def failing() -> None:
        async with db.write() as session:
            session.add(CodePackage(sha256="f" * 64, size=1, checksum="1", data=b"x"))
            await session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    async with db.write() as session:
        found = await session.scalar(select(func.count()).select_from(CodePackage))
    assert found == 0


async def test_a_block_inside_a_block_is_refused_at_once(db: Database) -> None:
    # Without the guard this deadlocks on SQLite's write queue, or waits for a
    # second pooled connection under load: refused before it can.
    async with db.read():
        with pytest.raises(NestedSession):
            async with db.write():
                pass
        with pytest.raises(NestedSession):
            async with db.read():
                pass
    async with db.write():
        with pytest.raises(NestedSession):
            async with db.read():
                pass
    # After the outer block, the task may open the next one.
    async with db.read() as session:
        assert await session.scalar(text("SELECT 1")) == 1


async def test_a_task_started_inside_a_block_has_its_own(db: Database) -> None:
    async def child() -> int | None:
        async with db.read() as session:
            value: int | None = await session.scalar(text("SELECT 2"))
            return value

    async with db.read():
        assert await asyncio.create_task(child()) == 2

"""Async engine and the one-unit-of-work-per-request session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, pool_size: int = 20) -> AsyncEngine:
    # No overflow: under sustained load, overflow connections are opened and
    # closed on every request (a TCP+auth handshake, or a thread and PRAGMAs
    # for SQLite), which costs far more than waiting briefly for a pooled one.
    pool = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": 30}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)
        _tune_sqlite(engine)
        return engine
    # No pre-ping (a round trip per checkout): a connection broken by a server
    # restart fails one statement, and SQLAlchemy then invalidates the pool.
    return create_async_engine(url, pool_recycle=1800, **pool)


def _tune_sqlite(engine: AsyncEngine) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside
    # the single writer; busy_timeout makes writers queue instead of failing.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Commit when the handler returns, roll back when it raises."""
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()

"""Async engine, the one-unit-of-work-per-request session, and queued write transactions."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
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


# SQLite has a single writer. Without a queue, concurrent writers of one process
# wait inside SQLite's busy handler, which sleeps and polls (steps of up to
# 100 ms): 16 concurrent deploys saw a p99 of seconds for transactions that take
# a millisecond. An asyncio lock per engine (and per event loop, as a lock
# belongs to one) lets them queue in the loop instead and start the moment the
# writer before them commits; busy_timeout still covers writers that do not
# take it. PostgreSQL takes no lock: row locks and conditional updates do that.
_write_locks: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Engine, asyncio.Lock]
] = weakref.WeakKeyDictionary()


def _sqlite_write_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return None
    per_engine = _write_locks.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    lock = per_engine.get(bind.sync_engine)
    if lock is None:
        lock = per_engine[bind.sync_engine] = asyncio.Lock()
    return lock


@asynccontextmanager
async def write_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """``sessions.begin()``, queued behind this process's other SQLite writers.

    Keep it short (no FC calls inside), and never open one while holding one:
    the lock is not reentrant.
    """
    lock = _sqlite_write_lock(sessions)
    if lock is None:
        async with sessions.begin() as session:
            yield session
        return
    async with lock, sessions.begin() as session:
        yield session

"""Short write transactions that queue in the event loop when the database is SQLite.

SQLite has a single writer. Without this, concurrent writers of one process
wait inside SQLite's busy handler, which sleeps and polls (steps of up to
100 ms), so 16 concurrent deploys saw a p99 of seconds for transactions that
take a millisecond. An asyncio lock per engine lets them queue in the event
loop instead and start the moment the writer before them commits; the busy
timeout still covers writers that do not take the lock. PostgreSQL takes no
lock: row locks and conditional updates do that work there.

Never open a write transaction while holding one: the lock is not reentrant.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

# Per event loop (an asyncio.Lock belongs to one), per engine.
_locks: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Engine, asyncio.Lock]
] = weakref.WeakKeyDictionary()


def _sqlite_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return None
    per_engine = _locks.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    lock = per_engine.get(bind.sync_engine)
    if lock is None:
        lock = per_engine[bind.sync_engine] = asyncio.Lock()
    return lock


@asynccontextmanager
async def write_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """``sessions.begin()``, queued behind this process's other SQLite writers."""
    lock = _sqlite_lock(sessions)
    if lock is None:
        async with sessions.begin() as session:
            yield session
        return
    async with lock, sessions.begin() as session:
        yield session

"""The one way to hold a database connection: ``Database.read()`` and ``Database.write()``.

A control plane calls Function Compute in the middle of its requests. A
session held across such a call keeps a pooled connection idle for as long as
FC takes to answer, and under load the pool runs dry while every holder waits
for FC or for a second connection (the stall this module exists to prevent).
The rules, enforced here where they can be:

- only repositories run statements; services receive the :class:`Database`
  and open a ``read()`` or ``write()`` block around database work only (a
  helper that must join the caller's transaction, such as emitting a webhook
  event or recording drift, takes the session of the caller's block and never
  opens one);
- nothing but database calls is awaited inside a block (never FC, a webhook
  receiver or another network service);
- a task holds at most one block at a time: opening a second one inside the
  first raises :class:`NestedSession` at once, instead of deadlocking on the
  pool (or on the SQLite write queue) under load;
- tasks of one request that run in parallel share ``one_at_a_time()``, so
  the request still holds one connection at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# How long a request waits for a pooled connection before it fails (503).
POOL_TIMEOUT_S = 30.0


def create_engine(
    url: str, pool_size: int = 20, pool_timeout: float = POOL_TIMEOUT_S
) -> AsyncEngine:
    # No overflow: under sustained load, overflow connections are opened and
    # closed on every request (a TCP+auth handshake, or a thread and PRAGMAs
    # for SQLite), which costs far more than waiting briefly for a pooled one.
    pool = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": pool_timeout}
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


class NestedSession(RuntimeError):
    """A task opened a database block while holding one (a programming error)."""


# The task holding a block in this context. A task started inside a block
# inherits the variable but is a different task, so it may open its own.
_holder: ContextVar[asyncio.Task[Any] | None] = ContextVar("fcplane_db_holder", default=None)


class Database:
    """An engine and its sessions, handed to services (never a session)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has a single writer. Without a queue, concurrent writers of
        # one process wait inside SQLite's busy handler, which sleeps and polls
        # (steps of up to 100 ms): 16 concurrent deploys saw a p99 of seconds
        # for transactions that take a millisecond. An asyncio lock lets them
        # queue in the loop and start the moment the writer before them
        # commits. PostgreSQL needs none: row locks and conditional updates do
        # that. A lock belongs to one event loop, hence one per loop.
        self._write_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] | None = (
            {} if engine.dialect.name == "sqlite" else None
        )

    @classmethod
    def connect(
        cls, url: str, pool_size: int = 20, pool_timeout: float = POOL_TIMEOUT_S
    ) -> Database:
        return cls(create_engine(url, pool_size, pool_timeout))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing it changes is committed."""
        with _holding():
            async with self._sessions() as session:
                yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction: committed when the block ends, rolled back when it raises.

        On SQLite it queues behind this process's other writers first.
        """
        with _holding():
            lock = self._write_lock()
            if lock is None:
                async with self._sessions.begin() as session:
                    yield session
                return
            async with lock, self._sessions.begin() as session:
                yield session

    def _write_lock(self) -> asyncio.Lock | None:
        if self._write_locks is None:
            return None
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            for closed in [other for other in self._write_locks if other.is_closed()]:
                del self._write_locks[closed]
            lock = self._write_locks[loop] = asyncio.Lock()
        return lock

    def one_at_a_time(self) -> Database:
        """This database for the tasks of one request that work in parallel (a project's
        resources): they take turns, so the request holds one connection at a time.

        Blocks never wait on the network, so a turn is as short as its statements.
        """
        return _Turns(self)

    async def dispose(self) -> None:
        await self.engine.dispose()


class _Turns(Database):
    def __init__(self, shared: Database) -> None:
        self.engine = shared.engine
        self._sessions = shared._sessions
        self._write_locks = shared._write_locks
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._turn, super().read() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self._turn, super().write() as session:
            yield session


class _holding:
    """Marks the current task as holding a block; refuses a second one."""

    def __enter__(self) -> None:
        task = asyncio.current_task()
        if task is not None and _holder.get() is task:
            raise NestedSession(
                "a database block was opened inside another one in the same task; "
                "finish the first before opening the next (one connection per request)"
            )
        self._token = _holder.set(task)

    def __exit__(self, *_: object) -> None:
        _holder.reset(self._token)

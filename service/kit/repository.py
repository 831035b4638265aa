"""What every repository does the same way: hold the session, get, lock, add, delete."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")
R = TypeVar("R")


class Repository(Generic[M]):
    """Base of the domain repositories; ``model`` is the ORM class it serves.

    Row locks are taken here (``get_for_update``) and in the subclasses'
    queries, never by services, so every lock is next to the SQL it guards.
    """

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: Any) -> M | None:
        found: M | None = await self.session.get(self.model, key)
        return found

    async def get_for_update(self, key: Any) -> M | None:
        """The row, locked until the transaction ends (PostgreSQL; SQLite has one writer).

        The lock is FOR NO KEY UPDATE, not FOR UPDATE: inserting a row that
        references this one (a deployment of a function) takes FOR KEY SHARE on
        it, which FOR UPDATE waits for; two writers that each inserted such a
        row and then locked the parent would deadlock.
        """
        found: M | None = await self.session.get(
            self.model, key, with_for_update={"key_share": True}, populate_existing=True
        )
        return found

    async def add(self, row: R) -> R:
        """Insert ``row`` (of this model, or one the repository owns: a function's
        revisions, a deployment's saved plan) and flush, so its id is known."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: M) -> None:
        await self.session.delete(row)
        await self.session.flush()

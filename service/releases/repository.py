"""All SQL of versions, aliases and alias revisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from service.kit.leases import expired_sql
from service.kit.repository import Repository
from service.models import Alias, AliasRevision, FunctionVersion


class VersionRepository(Repository[FunctionVersion]):
    model = FunctionVersion

    async def of_function(self, function_id: int) -> list[FunctionVersion]:
        rows = await self.session.scalars(
            select(FunctionVersion)
            .where(FunctionVersion.function_id == function_id)
            .order_by(FunctionVersion.id.desc())
        )
        return list(rows.all())

    async def by_id(self, function_id: int, version_id: str) -> FunctionVersion | None:
        return await self.session.scalar(
            select(FunctionVersion).where(
                FunctionVersion.function_id == function_id,
                FunctionVersion.version_id == version_id,
            )
        )


class AliasRepository(Repository[Alias]):
    model = Alias

    async def by_name(self, function_id: int, name: str) -> Alias | None:
        return await self.session.scalar(
            select(Alias).where(Alias.function_id == function_id, Alias.name == name)
        )

    async def of_function(self, function_id: int, *, live_only: bool = True) -> list[Alias]:
        """The function's aliases by name (``live_only``: those not deleted)."""
        query = select(Alias).where(Alias.function_id == function_id).order_by(Alias.name)
        if live_only:
            query = query.where(Alias.applied_state.is_not(None))
        return list((await self.session.scalars(query)).all())

    async def functions_with_aliases(self) -> set[int]:
        """The functions that have a managed (not deleted) alias."""
        rows = await self.session.scalars(
            select(Alias.function_id).where(Alias.applied_state.is_not(None)).distinct()
        )
        return set(rows.all())

    async def of_functions(self, function_ids: list[int]) -> dict[int, list[Alias]]:
        """The managed aliases of these functions, locked for recording checks."""
        if not function_ids:
            return {}
        rows = await self.session.scalars(
            select(Alias)
            .where(Alias.function_id.in_(function_ids))
            .order_by(Alias.function_id, Alias.name)
            # NO KEY UPDATE: see Repository.get_for_update.
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        found: dict[int, list[Alias]] = {}
        for alias in rows.all():
            found.setdefault(alias.function_id, []).append(alias)
        return found

    async def claim(
        self, alias_id: int, expected_head: int, claim: str, now: datetime, until: datetime
    ) -> bool:
        """Take the alias if its head is unchanged and nobody holds a live claim."""
        result = await self.session.execute(
            update(Alias)
            .where(
                Alias.id == alias_id,
                Alias.head == expected_head,
                expired_sql(Alias.claim_until, now),
            )
            .values(claim_id=claim, claim_until=until)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def release(self, alias_id: int, claim: str) -> None:
        await self.session.execute(
            update(Alias)
            .where(Alias.id == alias_id, Alias.claim_id == claim)
            .values(claim_id=None, claim_until=None)
        )

    async def revisions(self, alias_id: int) -> list[AliasRevision]:
        rows = await self.session.scalars(
            select(AliasRevision)
            .where(AliasRevision.alias_id == alias_id)
            .order_by(AliasRevision.number.desc())
        )
        return list(rows.all())

    async def revision(self, alias_id: int, number: int) -> AliasRevision | None:
        return await self.session.scalar(
            select(AliasRevision).where(
                AliasRevision.alias_id == alias_id, AliasRevision.number == number
            )
        )

    async def record(self, alias: Alias, **values: Any) -> None:
        for key, value in values.items():
            setattr(alias, key, value)
        await self.session.flush()

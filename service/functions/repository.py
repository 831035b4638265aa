"""All SQL of functions, their revisions and the code packages they use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, select, update
from sqlalchemy.orm import contains_eager

from service.kit.leases import expired_sql
from service.kit.repository import Repository
from service.models import Account, CodePackage, Function, Revision


def _with_account() -> Select[Function]:
    return (
        select(Function)
        .join(Account, Account.id == Function.account_id)
        .options(contains_eager(Function.account))
    )


class FunctionRepository(Repository[Function]):
    model = Function

    async def by_name(self, name: str) -> Function | None:
        """The function with its account loaded."""
        return await self.session.scalar(_with_account().where(Function.name == name))

    async def id_by_name(self, name: str) -> int | None:
        return await self.session.scalar(select(Function.id).where(Function.name == name))

    async def for_deploy(
        self, name: str, base_revision: int | None
    ) -> tuple[Function, Revision | None] | None:
        """The function (its account loaded) and revision ``base_revision`` if it exists."""
        query = (
            _with_account()
            .add_columns(Revision)
            .outerjoin(
                Revision,
                and_(Revision.function_id == Function.id, Revision.number == (base_revision or 0)),
            )
            .where(Function.name == name)
        )
        row = (await self.session.execute(query)).first()
        return (row[0], row[1]) if row else None

    async def all_with_accounts(self) -> list[Function]:
        """Every function with its account, by name."""
        return list((await self.session.scalars(_with_account().order_by(Function.name))).all())

    async def locked(self, function_ids: list[int]) -> list[Function]:
        """Rows for recording checks, locked in id order (concurrent scans cannot deadlock)."""
        rows = await self.session.scalars(
            select(Function)
            .where(Function.id.in_(function_ids))
            .order_by(Function.id)
            # NO KEY UPDATE: see Repository.get_for_update.
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        return list(rows.all())

    async def page(self, after: str | None, limit: int) -> list[Function]:
        query = _with_account().order_by(Function.name).limit(limit)
        if after is not None:
            query = query.where(Function.name > after)
        return list((await self.session.scalars(query)).all())

    async def claim(
        self,
        function_id: int,
        expected_head: int,
        deployment_id: str,
        now: datetime,
        lease_until: datetime,
    ) -> bool:
        """Take the deploy claim if the head is unchanged and nobody holds a live claim."""
        result = await self.session.execute(
            update(Function)
            .where(
                Function.id == function_id,
                Function.head_revision == expected_head,
                expired_sql(Function.deploy_lease_until, now),
            )
            .values(deploying_id=deployment_id, deploy_lease_until=lease_until)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def release(self, function_id: int, deployment_id: str) -> None:
        await self.session.execute(
            update(Function)
            .where(and_(Function.id == function_id, Function.deploying_id == deployment_id))
            .values(deploying_id=None, deploy_lease_until=None)
        )

    # -- revisions ---------------------------------------------------------

    async def revision(self, function_id: int, number: int) -> Revision | None:
        return await self.session.scalar(
            select(Revision).where(Revision.function_id == function_id, Revision.number == number)
        )

    async def revisions(self, function_id: int, after: int | None, limit: int) -> list[Revision]:
        query = (
            select(Revision)
            .where(Revision.function_id == function_id)
            .order_by(Revision.number.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(Revision.number < after)
        return list((await self.session.scalars(query)).all())

    async def add_revision(self, revision: Revision) -> Revision:
        self.session.add(revision)
        await self.session.flush()
        return revision

    # -- code packages -----------------------------------------------------

    async def package(self, sha256: str) -> CodePackage | None:
        return await self.session.get(CodePackage, sha256)

    async def package_exists(self, sha256: str) -> bool:
        found = await self.session.scalar(
            select(CodePackage.sha256).where(CodePackage.sha256 == sha256)
        )
        return found is not None

    async def package_data(self, sha256: str) -> bytes | None:
        return await self.session.scalar(
            select(CodePackage.data).where(CodePackage.sha256 == sha256)
        )

    async def sha256_by_checksum(self, checksum: str | None) -> str | None:
        """A stored package with this CRC-64 (FC's codeChecksum), if any."""
        if not checksum:
            return None
        return await self.session.scalar(
            select(CodePackage.sha256).where(CodePackage.checksum == checksum).limit(1)
        )

    async def data_by_checksum(self, checksum: str) -> bytes | None:
        return await self.session.scalar(
            select(CodePackage.data).where(CodePackage.checksum == checksum).limit(1)
        )

    async def add_package(self, package: CodePackage) -> None:
        self.session.add(package)
        await self.session.flush()

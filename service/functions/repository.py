from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Account, CodePackage, Function, Revision


class FunctionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_name(self, name: str) -> Function | None:
        return await self.session.scalar(select(Function).where(Function.name == name))

    async def by_name_with_account(self, name: str) -> tuple[Function, Account] | None:
        row = (
            await self.session.execute(
                select(Function, Account)
                .join(Account, Account.id == Function.account_id)
                .where(Function.name == name)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def for_deploy(
        self, name: str, base_revision: int | None
    ) -> tuple[Function, Account, Revision | None] | None:
        """The function, its account and (when it exists) revision ``base_revision``, at once."""
        query = (
            select(Function, Account, Revision)
            .join(Account, Account.id == Function.account_id)
            .outerjoin(
                Revision,
                and_(Revision.function_id == Function.id, Revision.number == (base_revision or 0)),
            )
            .where(Function.name == name)
        )
        row = (await self.session.execute(query)).first()
        return (row[0], row[1], row[2]) if row else None

    async def with_accounts(self) -> list[tuple[int, str, Account]]:
        """Every function's id and name with its account, by name."""
        rows = await self.session.execute(
            select(Function.id, Function.name, Account)
            .join(Account, Account.id == Function.account_id)
            .order_by(Function.name)
        )
        return [(fid, name, account) for fid, name, account in rows.all()]

    async def locked(self, function_ids: list[int]) -> list[Function]:
        """Rows for recording checks, locked in id order (concurrent scans cannot deadlock)."""
        rows = await self.session.scalars(
            select(Function)
            .where(Function.id.in_(function_ids))
            .order_by(Function.id)
            .with_for_update()
        )
        return list(rows.all())

    async def names_by_id(self, function_ids: set[int]) -> dict[int, str]:
        rows = await self.session.execute(
            select(Function.id, Function.name).where(Function.id.in_(function_ids))
        )
        return {fid: name for fid, name in rows.all()}

    async def page(self, after: str | None, limit: int) -> list[tuple[Function, Account]]:
        query = (
            select(Function, Account)
            .join(Account, Account.id == Function.account_id)
            .order_by(Function.name)
            .limit(limit)
        )
        if after is not None:
            query = query.where(Function.name > after)
        return [(f, a) for f, a in (await self.session.execute(query)).all()]

    async def add(self, function: Function) -> Function:
        self.session.add(function)
        await self.session.flush()
        return function

    async def delete(self, function: Function) -> None:
        await self.session.delete(function)
        await self.session.flush()

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
                or_(Function.deploying_id.is_(None), Function.deploy_lease_until < now),
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

    async def revisions_by_number(self, function_id: int, numbers: set[int]) -> list[Revision]:
        if not numbers:
            return []
        rows = await self.session.scalars(
            select(Revision).where(
                Revision.function_id == function_id, Revision.number.in_(numbers)
            )
        )
        return list(rows.all())

    async def add_revision(self, revision: Revision) -> Revision:
        self.session.add(revision)
        await self.session.flush()
        return revision

    # -- code packages -----------------------------------------------------

    async def package(self, sha256: str) -> CodePackage | None:
        return await self.session.get(CodePackage, sha256)

    async def package_data(self, sha256: str) -> bytes | None:
        return await self.session.scalar(
            select(CodePackage.data).where(CodePackage.sha256 == sha256)
        )

    async def package_by_checksum(self, checksum: str) -> CodePackage | None:
        return await self.session.scalar(
            select(CodePackage).where(CodePackage.checksum == checksum).limit(1)
        )

    async def add_package(self, package: CodePackage) -> None:
        self.session.add(package)
        await self.session.flush()

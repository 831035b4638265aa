"""All SQL of functions, their revisions and the code packages they use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload

from service.kit.leases import expired_sql
from service.kit.repository import Repository
from service.models import Account, CodePackage, Function, Revision
from service.models.function import FunctionRef


def _with_account() -> Select[Function]:
    return (
        select(Function)
        .join(Account, Account.id == Function.account_id)
        .options(contains_eager(Function.account))
    )


def _locked() -> Select[Function]:
    """Functions with their accounts, the function rows locked (PostgreSQL; SQLite has a
    single writer) and read afresh."""
    return (
        select(Function)
        .options(joinedload(Function.account, innerjoin=True))
        # NO KEY UPDATE: see Repository.get_for_update.
        .with_for_update(of=Function, key_share=True)
        .execution_options(populate_existing=True)
    )


def _is(ref: FunctionRef) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """``ref``'s row, in a query joined to its account."""
    return Account.alias == ref.account, Function.name == ref.name


class FunctionRepository(Repository[Function]):
    model = Function

    async def by_ref(self, ref: FunctionRef) -> Function | None:
        """The function with its account loaded."""
        return await self.session.scalar(_with_account().where(*_is(ref)))

    async def with_account(self, function_id: int) -> Function | None:
        return await self.session.scalar(_with_account().where(Function.id == function_id))

    async def exists(self, account_id: int, name: str) -> bool:
        found = await self.session.scalar(
            select(Function.id).where(Function.account_id == account_id, Function.name == name)
        )
        return found is not None

    async def for_deploy(
        self, ref: FunctionRef, base_revision: int | None
    ) -> tuple[Function, Revision | None] | None:
        """The function (its account loaded) and revision ``base_revision`` if it exists."""
        query = (
            _with_account()
            .add_columns(Revision)
            .outerjoin(
                Revision,
                and_(Revision.function_id == Function.id, Revision.number == (base_revision or 0)),
            )
            .where(*_is(ref))
        )
        row = (await self.session.execute(query)).first()
        return (row[0], row[1]) if row else None

    async def all_with_accounts(self) -> list[Function]:
        """Every function with its account, by account and name."""
        query = _with_account().order_by(Account.alias, Function.name)
        return list((await self.session.scalars(query)).all())

    async def get_for_update(self, key: int) -> Function | None:
        """The row (its account loaded), locked until the transaction ends."""
        return await self.session.scalar(_locked().where(Function.id == key))

    async def locked(self, function_ids: list[int]) -> list[Function]:
        """Rows for recording checks, locked in id order (concurrent scans cannot deadlock)."""
        query = _locked().where(Function.id.in_(function_ids)).order_by(Function.id)
        return list((await self.session.scalars(query)).all())

    async def page(
        self, account: str | None, after: FunctionRef | None, limit: int
    ) -> list[Function]:
        """By account alias, then name; ``after``: the last function already seen."""
        query = _with_account().order_by(Account.alias, Function.name).limit(limit)
        if account is not None:
            query = query.where(Account.alias == account)
        if after is not None:
            query = query.where(
                or_(
                    Account.alias > after.account,
                    and_(Account.alias == after.account, Function.name > after.name),
                )
            )
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

    # -- code packages -----------------------------------------------------

    async def package(self, sha256: str) -> CodePackage | None:
        return await self.session.get(CodePackage, sha256)

    async def package_summary(self, sha256: str) -> tuple[int, str] | None:
        """A stored package's size and CRC-64, without its bytes."""
        found = await self.session.execute(
            select(CodePackage.size, CodePackage.checksum).where(CodePackage.sha256 == sha256)
        )
        row = found.first()
        return None if row is None else (row.size, row.checksum)

    async def package_exists(self, sha256: str) -> bool:
        found = await self.session.scalar(
            select(CodePackage.sha256).where(CodePackage.sha256 == sha256)
        )
        return found is not None

    async def sha256_by_checksum(self, checksum: str | None) -> str | None:
        """A stored package with this CRC-64 (FC's codeChecksum), if any."""
        if not checksum:
            return None
        return await self.session.scalar(
            select(CodePackage.sha256).where(CodePackage.checksum == checksum).limit(1)
        )

    async def package_data(self, sha256: str) -> bytes | None:
        return await self.session.scalar(
            select(CodePackage.data).where(CodePackage.sha256 == sha256)
        )

    async def data_by_checksum(self, checksum: str) -> bytes | None:
        return await self.session.scalar(
            select(CodePackage.data).where(CodePackage.checksum == checksum).limit(1)
        )

    async def by_names(self, account_id: int, names: list[str]) -> dict[str, Function]:
        """The account's managed functions among ``names``, by name (a project's, at once)."""
        query = select(Function).where(Function.account_id == account_id, Function.name.in_(names))
        return {f.name: f for f in (await self.session.scalars(query)).all()}

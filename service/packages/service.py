"""Code packages: zips stored once by sha256, checked before they are kept."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import IntegrityError

from service.functions.codezip import ZipLimits, inspect_zip
from service.functions.repository import FunctionRepository
from service.kit.db import Database
from service.kit.errors import InvalidInput
from service.models import CodePackage
from service.packages.schemas import CodePackageOut


class PackageService:
    def __init__(self, db: Database, limits: ZipLimits) -> None:
        self.db = db
        self.limits = limits

    async def stored(self, sha256: str) -> CodePackageOut | None:
        async with self.db.read() as session:
            found = await FunctionRepository(session).package_summary(sha256)
        if found is None:
            return None
        size, checksum = found
        return CodePackageOut(sha256=sha256, size=size, crc64=checksum)

    async def store(
        self, sha256: str, data: bytes, author: str | None
    ) -> tuple[CodePackageOut, bool]:
        """Store a zip under its sha256; the package, and whether it is new."""
        # Hashing and inflating every entry take a while for a large zip: off the loop.
        info = await asyncio.to_thread(inspect_zip, data, self.limits)
        if info.sha256 != sha256:
            raise InvalidInput(
                f"sha256: the body's sha256 is {info.sha256}, not the {sha256} in the path",
                field="sha256",
            )
        stored = CodePackageOut(sha256=sha256, size=info.size, crc64=info.crc64)
        package = CodePackage(
            sha256=sha256, size=info.size, checksum=info.crc64, data=data, created_by=author
        )
        try:
            async with self.db.write() as session:
                await FunctionRepository(session).add(package)
        except IntegrityError:  # stored concurrently by another upload of the same bytes
            return stored, False
        return stored, True

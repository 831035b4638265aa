"""Code packages: zips stored once by sha256, checked before they are kept."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import IntegrityError

from service.functions.codezip import ZipLimits, inspect_zip
from service.functions.repository import FunctionRepository
from service.kit.db import Database
from service.kit.errors import InvalidInput
from service.models import CodePackage


class PackageService:
    def __init__(self, db: Database, limits: ZipLimits) -> None:
        self.db = db
        self.limits = limits

    async def exists(self, sha256: str) -> bool:
        async with self.db.read() as session:
            return await FunctionRepository(session).package_exists(sha256)

    async def store(self, sha256: str, data: bytes, author: str | None) -> bool:
        """Store a zip under its sha256; False when it was already there."""
        if await self.exists(sha256):
            return False
        # Hashing and inflating every entry take a while for a large zip: off the loop.
        info = await asyncio.to_thread(inspect_zip, data, self.limits)
        if info.sha256 != sha256:
            raise InvalidInput(
                f"sha256: the body's sha256 is {info.sha256}, not the {sha256} in the path",
                field="sha256",
            )
        package = CodePackage(
            sha256=sha256, size=info.size, checksum=str(info.crc64), data=data, created_by=author
        )
        try:
            async with self.db.write() as session:
                await FunctionRepository(session).add(package)
        except IntegrityError:  # stored concurrently by another upload of the same bytes
            return False
        return True

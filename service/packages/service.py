from __future__ import annotations

import asyncio

from service.functions.codezip import ZipLimits, inspect_zip
from service.functions.repository import FunctionRepository
from service.kit.errors import InvalidInput
from service.models import CodePackage


class PackageService:
    def __init__(self, functions: FunctionRepository, limits: ZipLimits) -> None:
        self.functions = functions
        self.limits = limits

    async def exists(self, sha256: str) -> bool:
        return await self.functions.package(sha256) is not None

    async def store(self, sha256: str, data: bytes, author: str | None) -> bool:
        """Store a zip under its sha256; False when it was already there."""
        if await self.functions.package(sha256) is not None:
            return False
        # CRC-64 and inflating every entry take about a second per 10 MB: off the loop.
        info = await asyncio.to_thread(inspect_zip, data, self.limits)
        if info.sha256 != sha256:
            raise InvalidInput(
                f"sha256: the body's sha256 is {info.sha256}, not the {sha256} in the path",
                field="sha256",
            )
        await self.functions.add_package(
            CodePackage(
                sha256=sha256,
                size=info.size,
                checksum=str(info.crc64),
                data=data,
                created_by=author,
            )
        )
        return True

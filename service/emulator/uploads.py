"""Storing uploaded code packages off the event loop (unzip checks and CRC-64 are CPU work)."""

from __future__ import annotations

import asyncio
from typing import Any

from service.emulator.codepkg import decode_zip_file
from service.emulator.context import Emulator
from service.emulator.errors import invalid
from service.emulator.store import Doc


def _store(emu: Emulator, code: dict[str, Any]) -> Doc:
    data = decode_zip_file(code, emu.settings.code_limits)
    meta = emu.store.blobs.add(data)
    expected = code.get("checksum")
    if expected and str(expected) != meta["checksum"]:
        raise invalid(
            f"code.checksum {expected} does not match the uploaded package ({meta['checksum']})"
        )
    return meta


async def store_code(emu: Emulator, code: dict[str, Any]) -> Doc:
    """Check, store (once by content) and checksum a code package: ``{sha256, checksum, size}``."""
    return await asyncio.to_thread(_store, emu, code)

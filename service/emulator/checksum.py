"""CRC-64/XZ, the checksum FC reports as ``codeChecksum`` (unsigned decimal).

Computed by ``fastcrc`` (Rust, MIT, manylinux wheels, ships type stubs):
about 10 GB/s against 8-14 MB/s for the pure-Python slicing-by-8 loop it
replaces, and it releases the GIL while it runs. ``anycrc`` is as fast but has
no type information, so strict mypy would see it as ``Any``. Callers still run
it off the event loop (``asyncio.to_thread``): a 100 MB package takes ~10 ms,
and reading the zip around it takes longer.
"""

from __future__ import annotations

import fastcrc


def crc64_xz(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Return the CRC-64/XZ of ``data``; pass a previous result to continue it.

    ``crc64_xz(b, crc64_xz(a)) == crc64_xz(a + b)``, so a stream can be
    checksummed chunk by chunk; ``crc=0`` is the checksum of nothing.
    """
    return fastcrc.crc64.xz(data, crc)


def code_checksum(data: bytes | bytearray | memoryview) -> str:
    return str(crc64_xz(data))

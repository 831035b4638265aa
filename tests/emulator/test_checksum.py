"""CRC-64/XZ test vectors from FC-WIRE.md."""

import pytest

from service.emulator.checksum import code_checksum, crc64_xz


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"123456789", "11051210869376104954"),
        (b"", "0"),
        (b"a", "3675645893302102789"),
        (b"hello world", "5981764153023615706"),
    ],
)
def test_vectors(data: bytes, expected: str) -> None:
    assert code_checksum(data) == expected


def test_incremental_equals_whole() -> None:
    assert crc64_xz(b"56789", crc64_xz(b"1234")) == crc64_xz(b"123456789")


def _bitwise_crc64_xz(data: bytes) -> int:
    """The textbook bit-at-a-time definition, as an independent reference."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


@pytest.mark.parametrize("length", [*range(18), 63, 64, 65, 1000])
def test_matches_bitwise_definition(length: int) -> None:
    data = bytes((i * 37 + 11) % 256 for i in range(length))
    assert crc64_xz(data) == _bitwise_crc64_xz(data)

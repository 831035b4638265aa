"""CRC-64/XZ (FC's codeChecksum): the catalogue's check values, the bitwise definition on
random data, and continuation."""

import random

import pytest

from service.emulator.checksum import code_checksum, crc64_xz


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"123456789", "11051210869376104954"),  # above 2**63: unsigned, not signed
        (b"", "0"),
        (b"a", "3675645893302102789"),
        (b"hello world", "5981764153023615706"),
    ],
)
def test_vectors(data: bytes, expected: str) -> None:
    assert code_checksum(data) == expected


def _bitwise_crc64_xz(data: bytes) -> int:
    """The textbook bit-at-a-time definition, as an independent reference."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


# Lengths around the 8- and 16-byte strides a table or SIMD implementation
# takes, plus one large enough to leave any short-input path.
@pytest.mark.parametrize("length", [*range(18), 31, 32, 33, 63, 64, 65, 1000, 20_000])
def test_matches_bitwise_definition_on_random_data(length: int) -> None:
    data = random.Random(length).randbytes(length)
    assert crc64_xz(data) == _bitwise_crc64_xz(data)


def test_continuation_equals_whole_at_every_split() -> None:
    data = random.Random(7).randbytes(300)
    whole = crc64_xz(data)
    for cut in range(len(data) + 1):
        assert crc64_xz(data[cut:], crc64_xz(data[:cut])) == whole, cut


def test_streaming_in_chunks_equals_whole() -> None:
    data = random.Random(8).randbytes(1 << 20)
    crc = 0
    for start in range(0, len(data), 65_537):  # a chunk size that splits words
        crc = crc64_xz(data[start : start + 65_537], crc)
    assert crc == crc64_xz(data)


def test_bytes_like_inputs_agree() -> None:
    data = b"123456789"
    assert crc64_xz(bytearray(data)) == crc64_xz(memoryview(data)) == crc64_xz(data)
    assert code_checksum(memoryview(b"xx" + data)[2:]) == "11051210869376104954"

"""Code package checks: every rejection from a crafted archive, and the happy path's figures."""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zipfile
import zlib

import pytest

from service.emulator.checksum import code_checksum, crc64_xz
from service.functions.codezip import (
    CodePackageTooLarge,
    InvalidCodePackage,
    ZipInfo,
    ZipLimits,
    inspect_zip,
)
from service.kit.errors import InvalidInput, PayloadTooLarge

MiB = 1024 * 1024


def make_zip(
    files: dict[str, bytes | str],
    *,
    method: int = zipfile.ZIP_DEFLATED,
    links: dict[str, str] | None = None,
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def rejected(data: bytes, limits: ZipLimits | None = None) -> str:
    with pytest.raises(InvalidCodePackage) as caught:
        inspect_zip(data, limits or ZipLimits())
    return caught.value.reason


# Central directory record: offsets of the fields the tests patch.
CENTRAL_SIG = b"PK\x01\x02"
C_CRC, C_SIZE, C_NAME_LEN, C_OFFSET, C_NAME = 16, 24, 28, 42, 46
LOCAL_SIG = b"PK\x03\x04"
L_CRC, L_SIZE, L_NAME_LEN, L_NAME = 14, 22, 26, 30


def patch_central(data: bytes, name: str, **fields: int) -> bytes:
    """Rewrite 4-byte fields (by offset name) of ``name``'s central directory record."""
    out = bytearray(data)
    at = out.find(CENTRAL_SIG)
    while at >= 0:
        name_len = struct.unpack_from("<H", out, at + C_NAME_LEN)[0]
        if out[at + C_NAME : at + C_NAME + name_len] == name.encode():
            for field, value in fields.items():
                struct.pack_into("<L", out, at + {"crc": C_CRC, "size": C_SIZE}[field], value)
            return bytes(out)
        at = out.find(CENTRAL_SIG, at + 4)
    raise AssertionError(f"{name} not in the central directory")


def patch_local(data: bytes, name: str, **fields: int) -> bytes:
    out = bytearray(data)
    at = out.find(LOCAL_SIG)
    while at >= 0:
        name_len = struct.unpack_from("<H", out, at + L_NAME_LEN)[0]
        if out[at + L_NAME : at + L_NAME + name_len] == name.encode():
            for field, value in fields.items():
                struct.pack_into("<L", out, at + {"crc": L_CRC, "size": L_SIZE}[field], value)
            return bytes(out)
        at = out.find(LOCAL_SIG, at + 4)
    raise AssertionError(f"{name} has no local header")


def rename(data: bytes, old: str, new: str) -> bytes:
    """Rename an entry in both headers (same length), bypassing zipfile's own sanitizing."""
    assert len(old) == len(new)
    return data.replace(old.encode(), new.encode())


# --- happy path ---------------------------------------------------------------

CODE: dict[str, bytes | str] = {
    "index.py": "def handler(event, context):\n    return event\n",
    "lib/util.py": "X = 1\n" * 100,
    "lib/": "",
    "data/blob.bin": bytes(range(256)) * 40,
}


def test_figures_match_independent_computation() -> None:
    data = make_zip(CODE)
    info = inspect_zip(data, ZipLimits())
    assert info == ZipInfo(
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        crc64=str(crc64_xz(data)),
        entries=4,
        uncompressed_size=sum(len(v.encode() if isinstance(v, str) else v) for v in CODE.values()),
    )


def test_crc64_is_fc_code_checksum() -> None:
    # CRC-64/XZ check values, through the implementation codezip reuses.
    assert code_checksum(b"123456789") == "11051210869376104954"
    assert code_checksum(b"") == "0"
    assert code_checksum(b"a") == "3675645893302102789"
    assert code_checksum(b"hello world") == "5981764153023615706"
    data = make_zip({"a.py": "a = 1\n"})
    assert inspect_zip(data, ZipLimits()).crc64 == code_checksum(data)


def test_default_limits() -> None:
    assert ZipLimits() == ZipLimits(100 * MiB, 500 * MiB, 10_000, 200)
    assert inspect_zip(make_zip({"a.py": "x"})).entries == 1


def test_stored_entries_and_safe_symlinks_pass() -> None:
    data = make_zip(
        {"bin/tool": "#!/bin/sh\n", "node_modules/x/cli.js": "1"},
        method=zipfile.ZIP_STORED,
        links={
            "node_modules/.bin/x": "../x/cli.js",
            "current": "bin",
            "via-link": "current/tool",
            "self-dir": ".",
        },
    )
    assert inspect_zip(data, ZipLimits()).entries == 6


def test_dot_segments_are_allowed() -> None:
    assert inspect_zip(make_zip({"./a.py": "x", "b//c.py": "y"}), ZipLimits()).entries == 2


def test_repetitive_small_files_are_not_bombs() -> None:
    # 512 KB of one byte compresses ~1000:1, but is under the ratio floor.
    assert inspect_zip(make_zip({"a.txt": b"a" * (512 * 1024)}), ZipLimits()).entries == 1


# --- the errors' shape --------------------------------------------------------


def test_errors_render_as_413_and_422() -> None:
    too_large = CodePackageTooLarge("x")
    invalid = InvalidCodePackage("why")
    assert isinstance(too_large, PayloadTooLarge)
    assert too_large.status == 413
    assert isinstance(invalid, InvalidInput)
    assert invalid.status == 422
    assert invalid.reason == "why"
    assert "why" in invalid.detail
    assert invalid.extra == {"reason": "why"}


# --- rejections ---------------------------------------------------------------


def test_over_the_compressed_limit_is_413() -> None:
    data = make_zip({"a.bin": bytes(range(256)) * 64})
    with pytest.raises(CodePackageTooLarge) as caught:
        inspect_zip(data, ZipLimits(max_compressed_bytes=len(data) - 1))
    assert caught.value.status == 413
    assert str(len(data) - 1) in caught.value.detail
    assert inspect_zip(data, ZipLimits(max_compressed_bytes=len(data))).size == len(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 40, make_zip({"a": "b"})[:-10]],
    ids=["empty", "text", "local-header-only", "truncated"],
)
def test_not_a_zip(data: bytes) -> None:
    assert "zip" in rejected(data)


def test_empty_archive() -> None:
    assert "no entries" in rejected(make_zip({}))


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd", "absolute"),
        ("../evil.py", "'..'"),
        ("a/../../evil.py", "'..'"),
        ("a/..", "'..'"),
        ("a\\..\\evil.py", "backslash"),
        ("C:/evil.py", "drive letter"),
        ("c:evil.py", "drive letter"),
        ("a\x01b.py", "control characters"),
        ("./", "no name"),
    ],
)
def test_unsafe_names(name: str, why: str) -> None:
    assert why in rejected(make_zip({name: "x"}))


def test_nul_in_name() -> None:
    # zipfile cuts names at NUL; the raw name must be checked.
    data = rename(make_zip({"evilXpy.py": "x"}), "evilXpy.py", "evil\x00py.py")
    assert "control characters" in rejected(data)


def test_duplicate_names() -> None:
    data = rename(make_zip({"a.py": "1", "b.py": "2"}), "b.py", "a.py")
    assert "duplicate" in rejected(data)


@pytest.mark.parametrize(("first", "second"), [("a/", "./a/"), ("a.py", "./a.py"), ("d", "d/")])
def test_duplicate_paths_in_other_spellings(first: str, second: str) -> None:
    assert "duplicate" in rejected(make_zip({first: "", second: ""}))


def test_file_used_as_a_directory() -> None:
    assert "as a directory" in rejected(make_zip({"a": "x", "a/b.py": "y"}))


def test_symlink_to_an_absolute_path() -> None:
    assert "absolute" in rejected(make_zip({"a.py": "x"}, links={"passwd": "/etc/passwd"}))


@pytest.mark.parametrize(
    "links",
    [
        {"up": ".."},
        {"up": "../code2/x"},
        {"deep/up": "../../etc"},
        {"a/b": "../x/../../y"},
        # Each hop looks harmless on its own; the chain climbs out.
        {"d/l1": "..", "x": "d/l1/.."},
        {"d/l1": "..", "d/l2": "l1/../.."},
        {"loop1": "loop2", "loop2": "loop1/x"},
        {"me": "me/x"},
    ],
    ids=["parent", "sibling", "deep", "zigzag", "chain", "chain2", "loop", "self-loop"],
)
def test_symlinks_pointing_outside(links: dict[str, str]) -> None:
    assert "points outside" in rejected(make_zip({"keep.py": "x"}, links=links))


def test_symlink_through_a_link_that_resolves_inside_is_fine() -> None:
    data = make_zip({"a/b/c.py": "x"}, links={"l": "a/b", "m": "l/../b/c.py"})
    assert inspect_zip(data, ZipLimits()).entries == 3


def test_special_files() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("fifo")
        info.create_system = 3
        info.external_attr = (stat.S_IFIFO | 0o644) << 16
        archive.writestr(info, "")
    assert "device, pipe or socket" in rejected(buffer.getvalue())


def test_too_many_entries() -> None:
    data = make_zip({f"f{i}.py": "" for i in range(11)})
    assert "11 entries" in rejected(data, ZipLimits(max_entries=10))
    assert inspect_zip(data, ZipLimits(max_entries=11)).entries == 11


def test_entry_count_that_lies_is_bounded_by_directory_size() -> None:
    data = bytearray(make_zip({f"f{i:03}.py": "" for i in range(50)}))
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 1, 1)  # claim one entry
    assert "central directory" in rejected(bytes(data), ZipLimits(max_entries=1))


def test_declared_uncompressed_size_over_the_limit() -> None:
    data = make_zip({"a.bin": bytes(range(256)) * 8192})  # 2 MiB, incompressible-ish
    assert "declares" in rejected(data, ZipLimits(max_uncompressed_bytes=MiB))


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """50 MB of zeros in ~50 KB: a real ratio-1000 bomb, kept small."""
    return make_zip({"zeros.bin": bytes(50 * 1000 * 1000)})


def test_high_ratio_bomb(bomb: bytes) -> None:
    assert len(bomb) < 100_000
    reason = rejected(bomb)
    assert "compresses" in reason
    assert "200:1" in reason


def test_bomb_with_lying_headers_is_caught_while_inflating(bomb: bytes) -> None:
    # Headers claim 1000 bytes (ratio ~0.02, under every limit); the stream holds 50 MB.
    liar = patch_local(patch_central(bomb, "zeros.bin", size=1000), "zeros.bin", size=1000)
    assert "inflates past the 1000 bytes it declares" in rejected(liar)


def test_lie_in_one_entry_among_many_is_caught() -> None:
    # Each entry holds 600 KB of zeros (under the ratio floor); the last one claims
    # 10 bytes so the declared total fits the limit. Inflating stops at its 11th byte.
    data = make_zip({f"z{i}.bin": bytes(600 * 1024) for i in range(4)})
    data = patch_local(patch_central(data, "z3.bin", size=10), "z3.bin", size=10)
    limits = ZipLimits(max_uncompressed_bytes=2 * MiB, max_ratio=10_000)
    assert "'z3.bin' inflates past the 10 bytes it declares" in rejected(data, limits)


def test_stream_shorter_than_declared() -> None:
    data = make_zip({"a.txt": "hello world"})
    data = patch_local(patch_central(data, "a.txt", size=12), "a.txt", size=12)
    assert "not the 12 it declares" in rejected(data)


def test_crc_mismatch() -> None:
    data = make_zip({"a.txt": "hello world"})
    good = zlib.crc32(b"hello world")
    data = patch_local(patch_central(data, "a.txt", crc=good ^ 1), "a.txt", crc=good ^ 1)
    assert "CRC-32" in rejected(data)


def test_crc_mismatch_in_stored_entry() -> None:
    data = make_zip({"a.txt": "hello world"}, method=zipfile.ZIP_STORED)
    assert "CRC-32" in rejected(data.replace(b"hello world", b"hello wOrld"))


def test_corrupt_deflate_stream() -> None:
    payload = bytes(range(256)) * 64
    data = bytearray(make_zip({"a.bin": payload}))
    start = data.find(b"a.bin") + len("a.bin")  # local header's name, then the stream
    for i in range(start + 2, start + 40):
        data[i] ^= 0xFF
    reason = rejected(bytes(data))
    assert "corrupt" in reason or "CRC-32" in reason or "inflates" in reason


def test_local_name_differs_from_central_name() -> None:
    data = make_zip({"good.py": "x"})
    local = data.find(b"good.py")  # first hit: the local header
    forged = data[:local] + b"evil.py" + data[local + 7 :]
    assert "local header" in rejected(forged)


def test_overlapping_entries() -> None:
    # Two central records pointing at the same local entry (the overlapping-file bomb).
    data = make_zip({"a.py": "x" * 100, "b.py": "y" * 100})
    first = data.find(CENTRAL_SIG)
    second = data.find(CENTRAL_SIG, first + 4)
    forged = bytearray(data)
    offset_of_a = struct.unpack_from("<L", data, first + C_OFFSET)[0]
    struct.pack_into("<L", forged, second + C_OFFSET, offset_of_a)
    assert "overlaps" in rejected(bytes(forged))


def test_encrypted_entry() -> None:
    data = bytearray(make_zip({"a.py": "x"}))
    for sig, flags_at in ((LOCAL_SIG, 6), (CENTRAL_SIG, 8)):
        at = data.find(sig)
        struct.pack_into("<H", data, at + flags_at, 0x1)
    assert "encrypted" in rejected(bytes(data))


def test_unsupported_compression_method() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("a.py", "x")
    assert "compression method" in rejected(buffer.getvalue())


def test_zip64_entry_count_is_read() -> None:
    data = make_zip({"a.py": "x"})
    eocd = data.rfind(b"PK\x05\x06")
    directory_size, directory_offset = struct.unpack_from("<LL", data, eocd + 12)
    zip64_eocd = struct.pack(
        "<4sQ2H2L4Q",
        b"PK\x06\x06",
        44,
        45,
        45,
        0,
        0,
        20_000,
        20_000,
        directory_size,
        directory_offset,
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    forged = data[:eocd] + zip64_eocd + locator + data[eocd:]
    assert "20000 entries" in rejected(forged)


def test_unicode_path_field_that_renames_the_entry() -> None:
    # Some unzips take the name from an Info-ZIP Unicode Path field (0x7075) over the header's.
    evil = b"../evil.py"
    field = struct.pack("<HHB", 0x7075, 5 + len(evil), 1) + struct.pack("<L", 0) + evil
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("good.py")
        info.extra = field
        archive.writestr(info, "x")
    assert "Unicode path" in rejected(buffer.getvalue())


def test_unicode_path_field_that_agrees_is_fine() -> None:
    name = b"caf\xc3\xa9.py"
    field = struct.pack("<HHB", 0x7075, 5 + len(name), 1) + struct.pack("<L", 0) + name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name.decode())
        info.extra = field
        archive.writestr(info, "x")
    assert inspect_zip(buffer.getvalue(), ZipLimits()).entries == 1

"""Checks for uploaded code packages: a zip FC can unpack into /code, and nothing more.

Everything is checked against the bytes themselves, never trusted from headers
alone: the archive is inflated entry by entry under a running byte budget, so
a bomb whose headers lie about its sizes is caught as surely as an honest one.
CPU work (inflating every entry, sha256, CRC-64): callers run it off the event loop.
"""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zipfile
import zlib
from collections import deque
from dataclasses import dataclass

from service.emulator.checksum import code_checksum
from service.kit.errors import InvalidInput, PayloadTooLarge

MiB = 1024 * 1024
CHUNK = 64 * 1024
# Entries and archives smaller than this are exempt from the ratio rule: a
# few KB of repetitive text compresses far past any sane ratio and is harmless.
RATIO_FLOOR_BYTES = 1 * MiB
# Stored and deflated are what every unzip reads; FC does not document which
# unzip it runs, so nothing rarer (bzip2, lzma, deflate64) is let through.
METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
MAX_SYMLINK_HOPS = 40  # Linux's limit before ELOOP
MAX_SYMLINK_TARGET = 4096  # PATH_MAX

_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIG = b"PK\x06\x06"
_LOCAL = struct.Struct("<4s5H3L2H")
_LOCAL_SIG = b"PK\x03\x04"
_CENTRAL_RECORD_MIN = 46
_UNICODE_PATH = 0x7075


class CodePackageTooLarge(PayloadTooLarge):
    code, title = "code_package_too_large", "Code package too large"


class InvalidCodePackage(InvalidInput):
    code, title = "invalid_code_package", "Invalid code package"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid code package: {reason}", reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class ZipLimits:
    max_compressed_bytes: int = 100 * MiB
    max_uncompressed_bytes: int = 500 * MiB
    max_entries: int = 10_000
    max_ratio: float = 200


@dataclass(frozen=True)
class ZipInfo:
    size: int  # bytes of the archive
    sha256: str  # hex
    crc64: str  # CRC-64/XZ as an unsigned decimal string: FC's codeChecksum
    entries: int  # files, directories and symlinks
    uncompressed_size: int  # bytes actually inflated, not as declared


@dataclass
class _Entry:
    info: zipfile.ZipInfo
    path: str  # canonical: no '.', no empty segments, no trailing '/'
    kind: str  # file | dir | symlink
    data_start: int = 0
    target: str = ""  # symlinks only


def inspect_zip(data: bytes, limits: ZipLimits | None = None) -> ZipInfo:
    """Check ``data`` is a safe code package and return its figures, or raise."""
    limits = limits or ZipLimits()
    if len(data) > limits.max_compressed_bytes:
        raise CodePackageTooLarge(
            f"code package is {len(data)} bytes, over the {limits.max_compressed_bytes}-byte limit",
            size=len(data),
            limit=limits.max_compressed_bytes,
        )
    _check_directory_bounds(data, limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error) as exc:
        raise InvalidCodePackage(f"not a readable zip archive ({exc})") from None
    if not infos:
        raise InvalidCodePackage("the archive has no entries")
    if len(infos) > limits.max_entries:
        raise InvalidCodePackage(f"{len(infos)} entries, over the limit of {limits.max_entries}")
    entries = _check_names(infos)
    _check_declared_sizes(infos, len(data), limits)
    _check_layout(data, entries)
    inflated = _inflate_all(data, entries, limits)
    _check_links(entries)
    return ZipInfo(
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        crc64=code_checksum(data),
        entries=len(entries),
        uncompressed_size=inflated,
    )


# --- the central directory, before zipfile builds an object per record ----------


def _check_directory_bounds(data: bytes, limits: ZipLimits) -> None:
    at = data.rfind(_EOCD_SIG, max(0, len(data) - _EOCD.size - 0xFFFF))
    if at < 0 or at + _EOCD.size > len(data):
        raise InvalidCodePackage("not a zip archive (no end of central directory record)")
    fields = _EOCD.unpack_from(data, at)
    count, directory_size = fields[4], fields[5]
    locator_at = at - _ZIP64_LOCATOR.size
    if locator_at >= 0 and data[locator_at : locator_at + 4] == _ZIP64_LOCATOR_SIG:
        zip64_at = _ZIP64_LOCATOR.unpack_from(data, locator_at)[2]
        if (
            zip64_at + _ZIP64_EOCD.size <= len(data)
            and data[zip64_at : zip64_at + 4] == _ZIP64_EOCD_SIG
        ):
            zip64 = _ZIP64_EOCD.unpack_from(data, zip64_at)
            count, directory_size = zip64[7], zip64[8]
    if count > limits.max_entries:
        raise InvalidCodePackage(f"{count} entries, over the limit of {limits.max_entries}")
    # The record count can lie; the directory's byte size bounds the real one.
    if directory_size > limits.max_entries * (_CENTRAL_RECORD_MIN + 1024):
        raise InvalidCodePackage(
            f"a central directory of {directory_size} bytes is too large for "
            f"{limits.max_entries} entries"
        )


# --- names --------------------------------------------------------------------


def _check_names(infos: list[zipfile.ZipInfo]) -> list[_Entry]:
    entries: list[_Entry] = []
    seen: dict[str, str] = {}
    parents: set[str] = set()
    for info in infos:
        name = info.orig_filename
        path = _path_of(name)
        if path in seen:
            raise InvalidCodePackage(f"duplicate entry {name!r} (same path as {seen[path]!r})")
        seen[path] = name
        if info.flag_bits & 0x1:
            raise InvalidCodePackage(f"entry {name!r} is encrypted")
        if info.compress_type not in METHODS:
            raise InvalidCodePackage(
                f"entry {name!r} uses compression method {info.compress_type}; "
                "only stored and deflated are supported"
            )
        parts = path.split("/")
        parents.update("/".join(parts[:i]) for i in range(1, len(parts)))
        entries.append(_Entry(info, path, _kind(info)))
    for entry in entries:
        if entry.kind != "dir" and entry.path in parents:
            raise InvalidCodePackage(
                f"entry {entry.info.orig_filename!r} is a file but other entries use it as a "
                "directory"
            )
    return entries


def _path_of(name: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InvalidCodePackage(f"entry {name!r} has control characters in its name")
    if "\\" in name:
        raise InvalidCodePackage(f"entry {name!r} contains a backslash; zip paths use '/'")
    if name.startswith("/"):
        raise InvalidCodePackage(f"entry {name!r} has an absolute path")
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        raise InvalidCodePackage(f"entry {name!r} starts with a drive letter")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidCodePackage(f"entry {name!r} escapes the code directory ('..')")
    if not parts:
        raise InvalidCodePackage(f"entry {name!r} has no name")
    return "/".join(parts)


def _kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode):  # made on Unix, with a file type
        if stat.S_ISLNK(mode):
            return "symlink"
        if stat.S_ISDIR(mode):
            return "dir"
        if not stat.S_ISREG(mode):
            raise InvalidCodePackage(f"entry {info.orig_filename!r} is a device, pipe or socket")
        return "file"
    return "dir" if info.orig_filename.endswith("/") else "file"


# --- declared sizes and layout ------------------------------------------------


def _check_declared_sizes(infos: list[zipfile.ZipInfo], size: int, limits: ZipLimits) -> None:
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed_bytes:
        raise InvalidCodePackage(
            f"the archive declares {declared} bytes uncompressed, over the "
            f"{limits.max_uncompressed_bytes}-byte limit"
        )
    for info in infos:
        _check_ratio(f"entry {info.orig_filename!r}", info.file_size, info.compress_size, limits)
    _check_ratio("the archive", declared, size, limits)


def _check_ratio(what: str, uncompressed: int, compressed: int, limits: ZipLimits) -> None:
    if uncompressed < RATIO_FLOOR_BYTES:
        return
    ratio = uncompressed / max(compressed, 1)
    if ratio > limits.max_ratio:
        raise InvalidCodePackage(
            f"{what} compresses {ratio:.0f}:1, over the {limits.max_ratio:g}:1 limit (a zip bomb?)"
        )


def _check_layout(data: bytes, entries: list[_Entry]) -> None:
    """Each entry owns its bytes (overlapping entries make the densest bombs), and is
    named alike everywhere (or different unzippers would write different files)."""
    end = 0
    for entry in sorted(entries, key=lambda e: e.info.header_offset):
        info = entry.info
        at = info.header_offset
        if at < end:
            raise InvalidCodePackage(f"entry {info.orig_filename!r} overlaps another entry")
        if at + _LOCAL.size > len(data) or data[at : at + 4] != _LOCAL_SIG:
            raise InvalidCodePackage(f"entry {info.orig_filename!r} has no local header")
        fields = _LOCAL.unpack_from(data, at)
        flags, name_len, extra_len = fields[2], fields[9], fields[10]
        raw_name = data[at + _LOCAL.size : at + _LOCAL.size + name_len]
        local_name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if local_name != info.orig_filename:
            raise InvalidCodePackage(
                f"entry {info.orig_filename!r} is named {local_name!r} in its local header"
            )
        local_extra = data[at + _LOCAL.size + name_len : at + _LOCAL.size + name_len + extra_len]
        for extra in (info.extra, local_extra):
            alias = _unicode_path(extra)
            if alias is not None and alias != info.orig_filename:
                raise InvalidCodePackage(
                    f"entry {info.orig_filename!r} carries another name, {alias!r}, in a "
                    "Unicode path field"
                )
        entry.data_start = at + _LOCAL.size + name_len + extra_len
        end = entry.data_start + info.compress_size
        if end > len(data):
            raise InvalidCodePackage(f"entry {info.orig_filename!r} runs past the end of the file")


def _unicode_path(extra: bytes) -> str | None:
    """The name in an Info-ZIP Unicode Path extra field (0x7075), which some unzips prefer."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4 : at + 4 + size]
        if kind == _UNICODE_PATH and len(body) >= 5:  # version, CRC-32 of the name, name
            return body[5:].decode("utf-8", errors="replace")
        at += 4 + size
    return None


# --- inflating, under a budget ------------------------------------------------


def _inflate_all(data: bytes, entries: list[_Entry], limits: ZipLimits) -> int:
    budget = limits.max_uncompressed_bytes
    total = 0
    for entry in entries:
        produced, head = _inflate(data, entry, budget - total)
        total += produced
        if entry.kind == "symlink":
            entry.target = _link_target(entry, head)
    return total


def _inflate(data: bytes, entry: _Entry, budget: int) -> tuple[int, bytes]:
    """Inflate one entry, checking size and CRC-32; return its size and first bytes."""
    info = entry.info
    name = info.orig_filename
    raw = memoryview(data)[entry.data_start : entry.data_start + info.compress_size]
    limit = min(budget, info.file_size)
    if not raw and not info.file_size:
        return 0, b""  # some zippers mark empty entries deflated with no stream at all
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
    crc = produced = 0
    head = b""
    for offset in range(0, len(raw), CHUNK):
        pending = bytes(raw[offset : offset + CHUNK])
        while pending:
            if inflater is None:
                out, pending = pending, b""
            else:
                try:
                    out = inflater.decompress(pending, CHUNK)
                except zlib.error as exc:
                    raise InvalidCodePackage(f"entry {name!r} is corrupt ({exc})") from None
                pending = inflater.unconsumed_tail
            produced += len(out)
            if produced > limit:
                raise InvalidCodePackage(_overrun(name, info.file_size, budget, produced))
            crc = zlib.crc32(out, crc)
            if len(head) < MAX_SYMLINK_TARGET + 1:
                head += out[: MAX_SYMLINK_TARGET + 1 - len(head)]
    if inflater is not None:
        tail = inflater.flush()
        produced += len(tail)
        if produced > limit:
            raise InvalidCodePackage(_overrun(name, info.file_size, budget, produced))
        crc = zlib.crc32(tail, crc)
        if not inflater.eof:
            raise InvalidCodePackage(f"entry {name!r} is corrupt (its deflate stream is cut short)")
        if inflater.unused_data:
            raise InvalidCodePackage(f"entry {name!r} has data after its deflate stream")
    if produced != info.file_size:
        raise InvalidCodePackage(
            f"entry {name!r} inflates to {produced} bytes, not the {info.file_size} it declares"
        )
    if crc != info.CRC:
        raise InvalidCodePackage(f"entry {name!r} fails its CRC-32 check")
    return produced, head


def _overrun(name: str, declared: int, budget: int, produced: int) -> str:
    if produced > budget:
        return f"entry {name!r} inflates past the uncompressed size limit (a zip bomb?)"
    return f"entry {name!r} inflates past the {declared} bytes it declares (lying headers?)"


# --- symlinks -----------------------------------------------------------------


def _link_target(entry: _Entry, content: bytes) -> str:
    name = entry.info.orig_filename
    if len(content) > MAX_SYMLINK_TARGET:
        raise InvalidCodePackage(f"symlink {name!r} has a target longer than {MAX_SYMLINK_TARGET}")
    try:
        target = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidCodePackage(f"symlink {name!r} has a target that is not UTF-8") from None
    if not target or "\x00" in target:
        raise InvalidCodePackage(f"symlink {name!r} has an empty or invalid target")
    if target.startswith("/") or "\\" in target or (len(target) >= 2 and target[1] == ":"):
        raise InvalidCodePackage(f"symlink {name!r} points to an absolute path {target!r}")
    return target


def _check_links(entries: list[_Entry]) -> None:
    targets = {e.path: e.target for e in entries if e.kind == "symlink"}
    for entry in entries:
        if entry.kind == "symlink" and _escapes(entry.path, targets):
            raise InvalidCodePackage(
                f"symlink {entry.info.orig_filename!r} points outside the code directory "
                f"or into a loop ({entry.target!r})"
            )


def _escapes(link: str, targets: dict[str, str]) -> bool:
    """Resolve ``link`` as the kernel would in a root holding the archive's links.

    Other links met on the way are followed, so a chain of links that each
    look harmless cannot climb out of the root; a loop counts as escaping.
    """
    pending = deque([*link.split("/")[:-1], *targets[link].split("/")])
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if not resolved:
                return True
            resolved.pop()
            continue
        candidate = "/".join([*resolved, part])
        if candidate in targets:
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                return True
            pending.extendleft(reversed(targets[candidate].split("/")))
            continue
        resolved.append(part)
    return False

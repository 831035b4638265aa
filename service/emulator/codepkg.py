"""Checking uploaded code archives before they are stored: size, zip bombs, path escapes."""

from __future__ import annotations

import base64
import binascii
import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from service.emulator.errors import invalid


@dataclass(frozen=True)
class CodeLimits:
    max_zip_bytes: int = 100 * 1024 * 1024  # the zip as uploaded
    max_unzipped_bytes: int = 500 * 1024 * 1024  # all entries, decompressed
    max_entries: int = 65536
    max_ratio: int = 200  # decompressed/compressed per entry beyond 1 MB


def _bad_name(name: str) -> str | None:
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "escapes the code directory"
    if "\x00" in name:
        return "contains a NUL byte"
    return None


def _symlink_escapes(name: str, target: str) -> bool:
    if target.startswith("/") or "\\" in target:
        return True
    depth = len(PurePosixPath(name).parts) - 1
    for part in PurePosixPath(target).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part != ".":
            depth += 1
    return False


def check_zip(data: bytes, limits: CodeLimits) -> None:
    """Raise InvalidArgument unless ``data`` is a sane zip; reads every entry once."""
    if len(data) > limits.max_zip_bytes:
        raise invalid(
            f"code package is {len(data)} bytes; the limit is {limits.max_zip_bytes} bytes"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise invalid(f"code package is not a valid zip file: {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise invalid(
                f"code package has {len(infos)} entries; the limit is {limits.max_entries}"
            )
        total = 0
        for info in infos:
            problem = _bad_name(info.filename)
            if problem:
                raise invalid(f"code package entry {info.filename!r} {problem}")
            total += _read_entry(archive, info, limits, total)
            if stat.S_ISLNK(info.external_attr >> 16):
                target = archive.read(info).decode("utf-8", "replace")
                if _symlink_escapes(info.filename, target):
                    raise invalid(
                        f"code package entry {info.filename!r} is a symlink that escapes the "
                        "code directory"
                    )


def _read_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: CodeLimits, so_far: int
) -> int:
    """Decompress one entry, counting real bytes (headers can lie); return its size."""
    size = 0
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(1024 * 1024):
                size += len(chunk)
                if so_far + size > limits.max_unzipped_bytes:
                    raise invalid(
                        "code package unzips to more than "
                        f"{limits.max_unzipped_bytes} bytes (zip bomb?)"
                    )
                if size > 1024 * 1024 and size > limits.max_ratio * max(info.compress_size, 1):
                    raise invalid(
                        f"code package entry {info.filename!r} has a compression ratio above "
                        f"{limits.max_ratio}:1 (zip bomb?)"
                    )
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise invalid(f"code package entry {info.filename!r} is corrupt: {exc}") from None
    return size


def decode_zip_file(code: dict[str, Any], limits: CodeLimits) -> bytes:
    """Turn an InputCodeLocation into checked zip bytes."""
    if code.get("ossBucketName") or code.get("ossObjectName"):
        raise invalid(
            "code.ossBucketName/ossObjectName are not supported by the emulator; "
            "send code.zipFile (base64)"
        )
    zip_file = code.get("zipFile")
    if not isinstance(zip_file, str) or not zip_file:
        raise invalid("code.zipFile must be a non-empty base64 string")
    if len(zip_file) > limits.max_zip_bytes * 4 // 3 + 4:
        raise invalid(f"code package exceeds the limit of {limits.max_zip_bytes} bytes")
    try:
        data = base64.b64decode(zip_file, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("code.zipFile is not valid base64") from None
    check_zip(data, limits)
    return data

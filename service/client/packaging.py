"""Code directories as deterministic zips, uploaded only when the server lacks them.

The same files must give the same bytes, or unchanged code would look changed
and be uploaded and deployed again: entries are sorted, timestamps fixed,
permissions reduced to 0644 / 0755 (the executable bit matters to FC), and
what tools leave behind (`.git`, `__pycache__`, fcplane's and Serverless
Devs' state folders) is left out.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from service.client.connection import Api
from service.client.errors import ClientError
from service.client.output import Output

EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".fcplane", ".s", "__pycache__"})
SKIPPED_FILES = frozenset({".DS_Store"})
CHUNK = 256 * 1024


@dataclass(frozen=True)
class Package:
    code: str  # as the s.yaml writes it
    data: bytes
    sha256: str


def _files(top: Path) -> Iterator[tuple[str, Path]]:
    def fail(error: OSError) -> None:
        raise error

    for directory, dirnames, filenames in os.walk(top, onerror=fail):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        base = Path(directory)
        for name in sorted(filenames):
            if name not in SKIPPED_FILES and not name.endswith(".pyc"):
                path = base / name
                yield path.relative_to(top).as_posix(), path


def zip_directory(top: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, path in _files(top):
            mode = path.stat().st_mode
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.create_system = 3  # unix, so the permission bits below are read
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def package(code: str, path: Path) -> Package:
    try:
        data = path.read_bytes() if path.is_file() else zip_directory(path)
    except OSError as exc:
        where = exc.filename or path
        raise ClientError(
            f"cannot read the code of {code!r}: {where}: {exc.strerror or exc}"
        ) from None
    return Package(code, data, hashlib.sha256(data).hexdigest())


def package_all(code: dict[str, Path]) -> dict[str, Package]:
    """Each code directory (or zip) of the project, by `code` as written."""
    return {key: package(key, path) for key, path in code.items()}


def upload_missing(api: Api, packages: list[Package], out: Output) -> list[str]:
    """Upload the packages the server does not have (HEAD first): their sha256s."""
    missing: dict[str, Package] = {}
    for p in packages:
        if p.sha256 in missing:
            continue
        head = api.request("HEAD", f"/v1/code-packages/{p.sha256}", allow=(404,))
        if head.status_code == 404:
            missing[p.sha256] = p
    if not missing:
        return []
    total = sum(len(p.data) for p in missing.values())
    out.note(f"Uploading {len(missing)} code package(s), {_size(total)}")
    sent = 0
    with out.progress("upload", total) as update:
        for p in missing.values():

            def chunks(p: Package = p) -> Iterator[bytes]:
                nonlocal sent
                for start in range(0, len(p.data), CHUNK):
                    piece = p.data[start : start + CHUNK]
                    sent += len(piece)
                    update(sent, p.code)
                    yield piece

            # Answered with nothing or with {sha256, size, crc64}: either way the
            # status says it is stored.
            api.request(
                "PUT",
                f"/v1/code-packages/{p.sha256}",
                content=chunks() if out.err_tty else p.data,
                headers={"Content-Type": "application/zip"},
            )
    return sorted(missing)


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"

"""Code and layer packages: unpacked once per content, safely, then shared read-mostly.

FC mounts code at ``/code`` and merges layers into ``/opt``. Locally every
instance of a function shares one unpacked copy (keyed by checksum, so a new
revision never sees stale files) and one merged ``opt`` directory per layer
list. Unpacking refuses entries that would escape the target, and bounds the
total size and entry count so a zip bomb cannot fill the disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

_Builder = Callable[[Path], None]

MAX_UNPACKED_BYTES = 1 << 30  # FC's own limit for an unpacked package is lower
MAX_ENTRIES = 100_000
_COPY_CHUNK = 1 << 20


class PackageError(Exception):
    """A code or layer zip that cannot be used (corrupt, unsafe or too large)."""


def _safe_member(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise PackageError(f"unsafe path in package: {name!r}")
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def extract_zip(zip_path: Path, target: Path, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
    """Extract into an empty ``target``; keeps unix modes (custom runtimes need +x)."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise PackageError(f"not a readable zip file: {exc}") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise PackageError(f"package has more than {MAX_ENTRIES} entries")
        written = 0
        for info in infos:
            rel = _safe_member(info.filename)
            if rel is None:
                continue
            dest = target.joinpath(*rel.parts)
            mode = (info.external_attr >> 16) & 0o7777
            if info.is_dir():
                _mkdirs(dest, target)
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                # A symlink entry could point anywhere; FC packages rarely need
                # them, so refuse instead of resolving.
                raise PackageError(f"symbolic link in package: {info.filename!r}")
            _mkdirs(dest.parent, target)
            # Count real bytes, not the header's claim: zip headers can lie.
            with archive.open(info) as src, open(dest, "wb") as out:
                while chunk := src.read(_COPY_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise PackageError(f"package unpacks to more than {max_bytes} bytes")
                    out.write(chunk)
            # Readable (and, if executable at all, executable) by everyone: the
            # sandbox user is not the emulator's user, and /code is read-only anyway.
            exec_bits = 0o555 if mode & 0o111 else 0
            os.chmod(dest, (mode & 0o777) | 0o444 | exec_bits)


def _mkdirs(path: Path, root: Path) -> None:
    """mkdir -p with 0755 on every directory made below ``root`` (whatever the umask)."""
    missing = []
    while path != root and not path.is_dir():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        os.chmod(directory, 0o755)


def _layer_key(layer: Path) -> str:
    st = layer.stat()
    return hashlib.sha256(f"{layer.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()


class PackageStore:
    """``<root>/code/<checksum>/`` and ``<root>/layers/<key>/``, ``<root>/opt/<key>/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[Path, asyncio.Lock] = {}

    async def code_dir(self, zip_path: Path, checksum: str) -> Path:
        return await self._once(self.root / "code" / checksum, lambda t: extract_zip(zip_path, t))

    async def opt_dir(self, layers: tuple[Path, ...]) -> Path | None:
        if not layers:
            return None
        unpacked = []
        for layer in layers:
            key = _layer_key(layer)
            unpacked.append(await self._once(self.root / "layers" / key, _extractor(layer)))
        merged_key = hashlib.sha256("|".join(str(p) for p in unpacked).encode()).hexdigest()
        return await self._once(self.root / "opt" / merged_key, lambda t: _merge(unpacked, t))

    async def _once(self, final: Path, build: _Builder) -> Path:
        if final.is_dir():
            return final
        lock = self._locks.setdefault(final, asyncio.Lock())
        async with lock:
            if not final.is_dir():
                await asyncio.to_thread(_build_atomically, final, build)
        return final


def _extractor(zip_path: Path) -> _Builder:
    return lambda target: extract_zip(zip_path, target)


def _build_atomically(final: Path, build: _Builder) -> None:
    # Build beside the final path and rename: a crash mid-way never leaves a
    # half-unpacked directory that later instances would trust.
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    try:
        build(tmp)
        tmp.chmod(0o755)
        try:
            tmp.rename(final)
        except OSError:
            if not final.is_dir():  # another process won the race: theirs is as good
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _merge(layers: list[Path], target: Path) -> None:
    """FC's /opt: layers overlaid in order, the first-listed layer wins a conflict."""
    for layer in layers:
        for dirpath, _dirnames, filenames in os.walk(layer):
            rel = Path(dirpath).relative_to(layer)
            _mkdirs(target / rel, target)
            for name in filenames:
                dest = target / rel / name
                if dest.exists():
                    continue
                src = Path(dirpath) / name
                try:
                    os.link(src, dest)  # shares the bytes; layers are never modified
                except OSError:
                    shutil.copy2(src, dest)

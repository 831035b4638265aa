"""Zips in and out: the user's source package, and deterministic packages built from trees.

The source is read once, checked like the emulator checks a code package (no
absolute or ``..`` paths, bounded size and entry count), and never trusted for
anything but its bytes. An output package is reproducible: entries sorted, one
fixed timestamp, modes reduced to 0644/0755, so the same inputs give the same
sha256 and a layer can be reused by content.
"""

from __future__ import annotations

import functools
import hashlib
import io
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .contract import BuildFailed

MAX_ENTRIES = 100_000
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say
_LARGE_FILE = 50 * 1024 * 1024


def safe_path(name: str) -> PurePosixPath | None:
    """A member name as a relative path; None for the root; BuildFailed if it escapes."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise BuildFailed(f"unsafe path in the source package: {name!r}", code="invalid_source")
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


@dataclass(frozen=True)
class Entry:
    """One file of a package: a regular file, or a symlink whose data is its target.
    The bytes are read when written, so a package never sits in memory twice."""

    path: str
    size: int
    load: Callable[[], bytes]
    executable: bool = False
    link: bool = False


class Source:
    """The user's source zip, validated; files by relative POSIX path."""

    def __init__(self, data: bytes, max_bytes: int) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise BuildFailed(
                f"the source is not a zip file: {exc}", code="invalid_source"
            ) from exc
        if len(infos) > MAX_ENTRIES:
            raise BuildFailed(
                f"the source has more than {MAX_ENTRIES} entries", code="invalid_source"
            )
        self._files: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            rel = safe_path(info.filename)
            if rel is None or info.is_dir():
                continue
            total += info.file_size
            self._files[rel.as_posix()] = info
        if total > max_bytes:
            raise BuildFailed(
                f"the source unpacks to {total} bytes, over the limit of {max_bytes}",
                code="output_too_large",
            )

    def __contains__(self, path: str) -> bool:
        return path in self._files

    def paths(self) -> list[str]:
        return sorted(self._files)

    def read(self, path: str) -> bytes:
        # The header's size is checked above; a lying header cannot inflate past it
        # because zipfile stops at file_size and then checks the CRC.
        return self._zip.read(self._files[path])

    def read_text(self, path: str) -> str | None:
        if path not in self._files:
            return None
        try:
            return self.read(path).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BuildFailed(f"{path} is not UTF-8 text", code="invalid_source") from exc

    def is_dir(self, path: str) -> bool:
        prefix = path.rstrip("/") + "/"
        return any(name.startswith(prefix) for name in self._files)

    def entries(self, under: str = "") -> Iterator[Entry]:
        prefix = under.rstrip("/") + "/" if under else ""
        for path in self.paths():
            if not path.startswith(prefix):
                continue
            yield self._entry(path)

    def _entry(self, path: str) -> Entry:
        info = self._files[path]
        mode = info.external_attr >> 16
        return Entry(
            path,
            info.file_size,
            functools.partial(self.read, path),
            executable=bool(mode & 0o111),
            link=stat.S_ISLNK(mode),
        )

    def digest(self, under: str | Iterable[str] = "") -> str:
        """sha256 over paths, modes and contents: the same files give the same digest,
        whatever the zip's timestamps or order."""
        roots = [under] if isinstance(under, str) else list(under)
        sha = hashlib.sha256()
        for root in roots:
            for entry in self.entries(root) if root == "" or self.is_dir(root) else self._one(root):
                sha.update(entry.path.encode() + b"\0")
                sha.update(b"x" if entry.executable else b"-")
                sha.update(b"l" if entry.link else b"f")
                sha.update(hashlib.sha256(entry.load()).digest())
        return sha.hexdigest()

    def _one(self, path: str) -> Iterator[Entry]:
        if path in self._files:
            yield self._entry(path)

    def extract(self, paths: Iterable[str], target: Path) -> None:
        """Write these files (directories: everything below them) under ``target``."""
        for root in paths:
            for entry in self.entries(root) if self.is_dir(root) else self._one(root):
                if entry.link:
                    continue  # a build never follows the user's symlinks
                dest = target / entry.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(entry.load())
                dest.chmod(0o755 if entry.executable else 0o644)


class Tree:
    """A tree the sandbox sent back as a tar: regular files and in-tree symlinks only
    (devices, hard links and links pointing out of the tree are dropped)."""

    def __init__(self, tar_path: Path) -> None:
        self._tar = tarfile.open(tar_path, "r:")
        self.files: dict[str, tarfile.TarInfo] = {}
        for member in self._tar.getmembers():
            rel = safe_path(member.name)
            if rel is None or member.isdir():
                continue
            if member.isfile() or (member.issym() and _link_stays_inside(rel, member.linkname)):
                self.files[rel.as_posix()] = member

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        return sum(m.size for m in self.files.values() if m.isfile())

    def read(self, path: str) -> bytes:
        stream = self._tar.extractfile(self.files[path])
        return stream.read() if stream is not None else b""

    def entries(self, prefix: str = "") -> Iterator[Entry]:
        for path in sorted(self.files):
            member = self.files[path]
            if member.issym():
                target = member.linkname.encode()
                yield Entry(prefix + path, len(target), functools.partial(bytes, target), link=True)
            else:
                yield Entry(
                    prefix + path,
                    member.size,
                    functools.partial(self.read, path),
                    executable=bool(member.mode & 0o111),
                )


def _link_stays_inside(rel: PurePosixPath, target: str) -> bool:
    if target.startswith("/"):
        return False
    depth = len(rel.parts) - 1
    for part in PurePosixPath(target).parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            return False
    return True


def write_zip(entries: Iterable[Entry], max_bytes: int) -> tuple[bytes, list[str]]:
    """A reproducible zip of ``entries`` (the first entry of a path wins) and its warnings."""
    chosen: dict[str, Entry] = {}
    shadowed: list[str] = []
    for entry in entries:
        if entry.path in chosen:
            shadowed.append(entry.path)
            continue
        chosen[entry.path] = entry
    warnings = []
    if shadowed:
        sample = ", ".join(sorted(shadowed)[:5])
        warnings.append(
            f"{len(shadowed)} file(s) of the source replace files of the installed "
            f"dependencies: {sample}"
        )
    large = sorted(e.path for e in chosen.values() if e.size > _LARGE_FILE)
    if large:
        warnings.append(f"files over {_LARGE_FILE // (1 << 20)} MB: {', '.join(large[:5])}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(chosen):
            entry = chosen[path]
            info = zipfile.ZipInfo(path, FIXED_TIME)
            info.create_system = 3  # unix: the modes below are meant
            info.compress_type = zipfile.ZIP_DEFLATED
            if entry.link:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            else:
                info.external_attr = (stat.S_IFREG | (0o755 if entry.executable else 0o644)) << 16
            archive.writestr(info, entry.load())
            if buf.tell() > max_bytes:
                raise BuildFailed(
                    f"the package is larger than its limit of {max_bytes} bytes",
                    code="output_too_large",
                )
    return buf.getvalue(), warnings

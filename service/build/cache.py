"""The build cache: finished packages by input, installed dependency trees by resolution.

``<root>/results/<key>/``: ``package.zip`` and ``manifest.json`` of a build,
keyed by everything that decides its output (runtime, output kind, the source
or the requirements, the builder's version). A hit skips pip and npm entirely.

``<root>/wheels/<key>/``: the wheel a source distribution (or project
directory) was built into, keyed by the source's sha256, so sdists are built
once and the resolution that contains them stays the same.

``<root>/deps/<key>/``: ``tree.tar`` (the installed dependencies) and
``deps.json``, keyed by the runtime and the exact resolution (every wheel's
name and sha256, or npm's lock entries). A new source with unchanged
requirements reuses it and only re-zips; a layer with the same resolution is
byte-identical, so its sha256 is the content address FC and fcplane reuse.

Entries are written beside their final place and renamed in, so a reader never
sees half an entry and two builds racing for one key both succeed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_Writer = Callable[[Path], object]


def key_of(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CachedResult:
    package: bytes
    manifest: dict[str, Any]


@dataclass(frozen=True)
class CachedDeps:
    tree: Path
    meta: dict[str, Any]


class BuildCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def result(self, key: str) -> CachedResult | None:
        entry = self.root / "results" / key
        try:
            package = (entry / "package.zip").read_bytes()
            manifest = json.loads((entry / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        if manifest.get("sha256") != hashlib.sha256(package).hexdigest():
            return None  # damaged on disk: build again rather than serve it
        return CachedResult(package, manifest)

    def store_result(self, key: str, package: bytes, manifest: dict[str, Any]) -> None:
        """Store (or, after a ``no_cache`` rebuild, replace) a build's result."""

        def write(tmp: Path) -> None:
            (tmp / "package.zip").write_bytes(package)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))

        self._store(self.root / "results" / key, write, replace=True)

    def deps(self, key: str) -> CachedDeps | None:
        entry = self.root / "deps" / key
        try:
            meta = json.loads((entry / "deps.json").read_text())
        except (OSError, ValueError):
            return None
        tree = entry / "tree.tar"
        return CachedDeps(tree, meta) if tree.is_file() else None

    def store_deps(
        self, key: str, tree: Path, meta: dict[str, Any], *, replace: bool = False
    ) -> CachedDeps:
        def write(tmp: Path) -> None:
            shutil.copyfile(tree, tmp / "tree.tar")
            (tmp / "deps.json").write_text(json.dumps(meta, indent=1, sort_keys=True))

        final = self.root / "deps" / key
        self._store(final, write, replace=replace)
        return CachedDeps(final / "tree.tar", meta)

    def wheel(self, key: str) -> Path | None:
        found = sorted((self.root / "wheels" / key).glob("*.whl"))
        return found[0] if found else None

    def store_wheel(self, key: str, name: str, data: bytes, *, replace: bool = False) -> None:
        self._store(
            self.root / "wheels" / key, lambda tmp: (tmp / name).write_bytes(data), replace=replace
        )

    def _store(self, final: Path, write: _Writer, *, replace: bool) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
        old: Path | None = None
        try:
            write(tmp)
            os.chmod(tmp, 0o755)
            if replace and final.is_dir():
                old = Path(tempfile.mkdtemp(prefix=".old-", dir=final.parent))
                with contextlib.suppress(OSError):
                    final.rename(old / "entry")
            try:
                tmp.rename(final)
            except OSError:
                if not final.is_dir():
                    raise
                # Another build stored the same key meanwhile: an equivalent entry.
        finally:
            for leftover in (tmp, old):
                if leftover is not None and leftover.exists():
                    shutil.rmtree(leftover, ignore_errors=True)

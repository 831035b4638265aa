"""Build fixtures: real pip against this machine's configured indexes, real bubblewrap.

``six==1.17.0`` is pinned because the configured local index (/opt/pypi) has it
as a pure-Python wheel; tests that need a source distribution write their own.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from service.build import BuildLimits, BuildRequest, BuildResult, Output, build
from tests.conftest import unavailable

SIX = "six==1.17.0"
INDEX_PY = "import six\n\ndef handler(event, context):\n    return six.__version__\n"

Build = Callable[..., Coroutine[Any, Any, BuildResult]]


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buf.getvalue()


def names(package: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(package)).namelist()


def contents(package: bytes) -> bytes:
    """Every entry's bytes, uncompressed, one after the other (to search for a secret)."""
    archive = zipfile.ZipFile(io.BytesIO(package))
    return b"\n".join(archive.read(name) for name in archive.namelist())


def sdist(directory: Path, name: str, version: str, setup_py: str) -> Path:
    """A source distribution ``name-version.tar.gz`` whose setup.py is ``setup_py``."""
    top = f"{name.replace('-', '_')}-{version}"
    path = directory / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member, text in {
            f"{top}/setup.py": setup_py,
            f"{top}/{name.replace('-', '_')}/__init__.py": "",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def build_dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "cache", tmp_path / "work"


@pytest.fixture
def bwrap() -> None:
    if shutil.which("bwrap") is None:
        unavailable("bubblewrap", "bwrap is not on PATH")


@pytest.fixture
def run_build(build_dirs: tuple[Path, Path], bwrap: None) -> Build:
    """build() with this test's cache and work dirs; records progress messages."""
    cache_dir, work_dir = build_dirs

    async def run(
        files: dict[str, str | bytes],
        runtime: str = "python3.10",
        *,
        output: Output = "code",
        no_cache: bool = False,
        limits: BuildLimits | None = None,
        progress: list[str] | None = None,
    ) -> BuildResult:
        request = BuildRequest(make_zip(files), runtime, output, no_cache)
        return await build(
            request,
            cache_dir=cache_dir,
            work_dir=work_dir,
            limits=limits or BuildLimits(timeout_s=120),
            progress=progress.append if progress is not None else None,
        )

    return run

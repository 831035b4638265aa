"""Fixtures for the emulator runtime: a ProcessRuntime per test and function specs from source."""

from __future__ import annotations

import textwrap
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from service.emulator.runtime.contract import FunctionSpec
from service.emulator.runtime.manager import ProcessRuntime


class SpecFactory(Protocol):
    def __call__(self, files: dict[str, str], **overrides: Any) -> FunctionSpec: ...


def write_zip(
    path: Path, files: dict[str, str | bytes], modes: dict[str, int] | None = None
) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            data = content if isinstance(content, bytes) else textwrap.dedent(content)
            archive.writestr(info, data)
    return path


@pytest.fixture
def zip_writer() -> Callable[..., Path]:
    return write_zip


@pytest.fixture
def make_spec(tmp_path: Path) -> SpecFactory:
    counter = iter(range(1_000_000))

    def factory(files: dict[str, str], **overrides: Any) -> FunctionSpec:
        n = next(counter)
        code_zip = write_zip(tmp_path / f"code-{n}.zip", dict(files))
        fields: dict[str, Any] = {
            "name": f"fn{n}",
            "qualifier": "LATEST",
            "version_id": None,
            "runtime": "python3.12",
            "handler": "index.handler",
            "timeout_s": 10,
            "memory_mb": 256,
            "cpu": 1.0,
            "disk_mb": 512,
            "instance_concurrency": 1,
            "environment": {},
            "code_zip": code_zip,
            "code_checksum": f"{tmp_path.name}-{n}",
        }
        fields.update(overrides)
        return FunctionSpec(**fields)

    return factory


RuntimeFactory = Callable[..., ProcessRuntime]


@pytest.fixture
async def runtime_factory(tmp_path: Path) -> AsyncIterator[RuntimeFactory]:
    """For tests that need non-default limits; every runtime made is closed afterwards."""
    made: list[ProcessRuntime] = []

    def factory(**kwargs: Any) -> ProcessRuntime:
        runtime = ProcessRuntime(tmp_path / f"data-{len(made)}", **kwargs)
        made.append(runtime)
        return runtime

    try:
        yield factory
    finally:
        for runtime in made:
            await runtime.close()


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    rt = ProcessRuntime(tmp_path / "data", idle_timeout_s=60)
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def unsafe_runtime(tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    """A runtime started with --unsafe-no-sandbox: instances are plain host processes."""
    rt = ProcessRuntime(tmp_path / "unsafe-data", idle_timeout_s=60, unsafe_no_sandbox=True)
    try:
        yield rt
    finally:
        await rt.close()

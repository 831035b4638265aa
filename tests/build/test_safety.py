"""What a malicious package cannot do during a build, and the build's limits."""

from __future__ import annotations

import ast
import io
import os
import socket
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from service.build import BuildFailed, BuildLimits
from tests.build.conftest import Build, contents

SECRET = "fcplane-secret-8c1f0e6a"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def build_dirs(shared_cache: Path, tmp_path: Path) -> tuple[Path, Path]:
    """One cache for the module: setuptools is downloaded once for its source builds."""
    return shared_cache, tmp_path / "work"


# Collects what it can of the host and writes it into the package it builds.
PROBE_SETUP_PY = """
import os, pathlib, socket
found = {{}}
for path in {paths!r}:
    try:
        p = pathlib.Path(path)
        found[path] = p.read_text() if p.is_file() else sorted(os.listdir(p))
    except Exception as exc:
        found[path] = "unreadable: " + type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"leak")
    found["network"] = "connected"
except OSError as exc:
    found["network"] = "refused: " + type(exc).__name__
try:
    socket.getaddrinfo("pypi.org", 443)
    found["dns"] = "resolved"
except OSError as exc:
    found["dns"] = "failed: " + type(exc).__name__
for path in {writable!r}:
    try:
        pathlib.Path(path, "pwned").write_text("x")
        found["wrote " + path] = True
    except OSError as exc:
        found["wrote " + path] = False
found["environment"] = dict(os.environ)
pathlib.Path("probe").mkdir(exist_ok=True)
pathlib.Path("probe/__init__.py").write_text("FOUND = " + repr(found) + "\\n")
from setuptools import setup
setup(name="probe", version="1.0", packages=["probe"])
"""


async def test_setup_py_cannot_reach_fcplane_data_secrets_or_the_network(
    run_build: Build,
    build_dirs: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir = tmp_path / "fcplane-data"
    data_dir.mkdir()
    (data_dir / "secret.key").write_text(SECRET)
    monkeypatch.setenv("FCPLANE_SECRET_KEY", SECRET)
    cache_dir, work_dir = build_dirs
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    paths = [str(data_dir / "secret.key"), str(data_dir), str(cache_dir), str(work_dir)]
    setup_py = PROBE_SETUP_PY.format(
        paths=paths,
        port=listener.getsockname()[1],
        writable=[str(cache_dir), str(work_dir), str(data_dir)],
    )

    result = await run_build({"requirements.txt": "./probe\n", "probe/setup.py": setup_py})

    assert SECRET.encode() not in contents(result.package)
    found = _found(result.package)
    assert all(found[path].startswith("unreadable") for path in paths)
    assert found["network"].startswith("refused")
    assert found["dns"].startswith("failed")
    assert not any(value for key, value in found.items() if key.startswith("wrote "))
    assert not any(key.startswith("FCPLANE") for key in found["environment"])
    assert not (data_dir / "pwned").exists()
    assert not (cache_dir / "pwned").exists()
    with pytest.raises(TimeoutError):
        listener.accept()  # nobody ever connected
    listener.close()
    assert result.manifest["packages"][0]["source"] == "project"


def _found(package: bytes) -> dict[str, Any]:
    source = zipfile.ZipFile(io.BytesIO(package)).read("probe/__init__.py").decode()
    found = ast.literal_eval(source.removeprefix("FOUND = "))  # the probe's report: a literal
    assert isinstance(found, dict)
    return found


async def test_a_build_over_its_time_is_killed_with_everything_it_started(
    run_build: Build,
) -> None:
    marker = f"fcplane-build-sleeper-{os.getpid()}"
    setup_py = (
        "import subprocess, time\n"
        f"subprocess.Popen(['sh', '-c', 'exec -a {marker} sleep 600'], start_new_session=True)\n"
        "time.sleep(600)\n"
    )
    started = time.monotonic()
    with pytest.raises(BuildFailed) as failed:
        await run_build(
            {"requirements.txt": "./slow\n", "slow/setup.py": setup_py},
            limits=BuildLimits(timeout_s=4),
        )

    assert failed.value.code == "timeout"
    assert "4 s" in failed.value.reason
    assert time.monotonic() - started < 10
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and _runs(pid, marker)]


def _runs(pid: str, marker: str) -> bool:
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


async def test_memory_and_output_limits_fail_the_build_with_the_reason(run_build: Build) -> None:
    hog = "x = bytearray(1 << 30)\nx[::4096] = b'1' * len(x[::4096])\n"
    with pytest.raises(BuildFailed) as failed:
        await run_build(
            {"requirements.txt": "./hog\n", "hog/setup.py": hog},
            limits=BuildLimits(timeout_s=60, memory_mb=256),
        )
    assert failed.value.code == "out_of_memory"
    assert "256 MB" in failed.value.reason

    with pytest.raises(BuildFailed) as failed:
        await run_build(
            {"index.py": "x = 1\n", "big.bin": os.urandom(300_000)},
            limits=BuildLimits(max_output_bytes=200_000),
        )
    assert failed.value.code == "output_too_large"

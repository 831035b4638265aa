"""Timeout, out-of-memory, reaping and shutdown leave no process and no cgroup behind.

Each function first starts a daemon (setsid + double fork, the classic escape from a
process group); the checks then look at the host's /proc and cgroup tree.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from service.emulator.runtime.contract import FunctionSpec, InvokeRequest
from service.emulator.runtime.limits import Limits
from service.emulator.runtime.manager import ProcessRuntime

SpecFactory = Callable[..., FunctionSpec]

_probe = Limits("auto")
CGROUPS_HERE = _probe.mem_base is not None and _probe.pids_base is not None
_probe.close()
pytestmark = pytest.mark.skipif(
    not CGROUPS_HERE and os.environ.get("CI", "").lower() != "true",
    reason="no cgroup v1 rights (CI runs as root and has them)",
)

DAEMON_THEN = {
    "index.py": """
        import os, time
        def handler(event, context):
            if event == b"daemon":
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        time.sleep(600)
                    os._exit(0)
                time.sleep(0.2)
                return "daemon started"
            if event == b"sleep":
                time.sleep(600)
            if event == b"hog":
                hog = []
                while True:
                    hog.append(bytearray(10 * 1024 * 1024))
            return "idle"
    """
}


def _groups(pid: int) -> list[Path]:
    """The instance's cgroup directories (memory and pids), from the host's view."""
    found = []
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in ("memory", "pids"):
            if name in controllers.split(",") and "fcplane" in path:
                found.append(Path("/sys/fs/cgroup") / name / path.lstrip("/"))
    return found


def _pids(groups: list[Path]) -> set[int]:
    return {int(p) for g in groups for p in (g / "cgroup.procs").read_text().split()}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


async def _started(runtime: ProcessRuntime, spec: FunctionSpec) -> tuple[list[Path], set[int]]:
    result = await runtime.invoke(spec, InvokeRequest("d-1", b"daemon"))
    assert result.body == b"daemon started"
    [info] = runtime.instances(spec.name)
    groups = _groups(info.pid)
    pids = _pids(groups)
    assert len(groups) == 2
    assert len(pids) >= 4  # bwrap, its init, the handler's process and the daemon
    return groups, pids


async def _gone(groups: list[Path], pids: set[int], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(map(_alive, pids)) and not any(g.exists() for g in groups):
            return
        await asyncio.sleep(0.05)
    assert [p for p in pids if _alive(p)] == []
    assert [g for g in groups if g.exists()] == []


async def test_timeout_leaves_nothing(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(DAEMON_THEN, timeout_s=1)
    groups, pids = await _started(runtime, spec)
    result = await runtime.invoke(spec, InvokeRequest("t-1", b"sleep"))
    assert result.error_type == "UnhandledInvocationError"
    await _gone(groups, pids)


async def test_out_of_memory_leaves_nothing(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(DAEMON_THEN, memory_mb=128)
    groups, pids = await _started(runtime, spec)
    result = await runtime.invoke(spec, InvokeRequest("o-1", b"hog"))
    assert "out of memory" in result.body.decode()
    await _gone(groups, pids)


async def test_reaping_and_shutdown_leave_nothing(tmp_path: Path, make_spec: SpecFactory) -> None:
    runtime = ProcessRuntime(tmp_path / "reaped", idle_timeout_s=0.5)
    spec = make_spec(DAEMON_THEN)
    try:
        groups, pids = await _started(runtime, spec)
        await _gone(groups, pids)  # idle past 0.5 s: reaped, daemon and all
        assert runtime.instances() == []
        other = make_spec(DAEMON_THEN)
        groups, pids = await _started(runtime, other)
        bases = {g.parent for g in groups}
    finally:
        await runtime.close()
    await _gone(groups, pids)
    assert [b for b in bases if b.exists()] == []  # the runtime's base groups too

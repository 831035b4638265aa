"""Host-side subprocesses of a build: one deadline for all of them, killed as a group.

Only fcplane's own tools run here (pip resolving and downloading wheels, npm
fetching tarballs with scripts off): nothing of the user's packages executes
on the host. Their environment is the server's minus fcplane's own settings,
so pip and npm keep their configuration (indexes, proxies, certificates).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .contract import BuildFailed

_TAIL_BYTES = 64 * 1024


class Deadline:
    """The build's wall-clock budget, shared by every step."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._at - time.monotonic()

    def check(self) -> None:
        if self.remaining() <= 0:
            raise self.expired()

    def expired(self, log: str = "") -> BuildFailed:
        return BuildFailed(
            f"the build took longer than its limit of {self.seconds:g} s", log, code="timeout"
        )


@dataclass(frozen=True)
class Completed:
    returncode: int
    output: str  # stdout and stderr interleaved, the last 64 KiB


def host_environment() -> dict[str, str]:
    """The server's environment without fcplane's settings (secrets among them)."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("FCPLANE_")}


class Tail:
    """The last bytes of a stream (pip's and npm's errors come at the end)."""

    def __init__(self, limit: int = _TAIL_BYTES) -> None:
        self.limit = limit
        self._buf = bytearray()

    def add(self, chunk: bytes) -> None:
        self._buf += chunk
        if len(self._buf) > self.limit:
            del self._buf[: len(self._buf) - self.limit]

    def text(self) -> str:
        return self._buf.decode(errors="replace")


async def pump(stream: asyncio.StreamReader | None, tail: Tail) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        tail.add(chunk)


def kill_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


async def run(
    argv: Sequence[str], *, cwd: Path, deadline: Deadline, env: dict[str, str] | None = None
) -> Completed:
    """Run a host tool to completion within the deadline (else its process group is killed)."""
    deadline.check()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=host_environment() if env is None else env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    tail = Tail()
    try:
        await asyncio.wait_for(pump(proc.stdout, tail), max(deadline.remaining(), 0.001))
        await asyncio.wait_for(proc.wait(), max(deadline.remaining(), 0.001))
    except TimeoutError:
        raise deadline.expired(tail.text()) from None
    finally:
        kill_group(proc)  # also on cancellation: nothing outlives its build
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()
    return Completed(proc.returncode if proc.returncode is not None else -1, tail.text())

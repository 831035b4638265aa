"""The build sandbox: the emulator's instance sandbox, offline, with the build's own files.

A build step (building an sdist, installing wheels, running npm's install
scripts) runs ``child/runner.py`` inside bubblewrap, composed from the
emulator's public pieces (``Sandbox.bwrap_options``, ``args_pipe``,
``Sandbox.command``, ``Limits``), so it gets everything an instance gets:
own PID/IPC/UTS/mount namespaces, ``/usr`` and the interpreter read-only
with every host ``site-packages`` hidden, the ``/etc`` allow-list, a clean
environment, uid 20000 without capabilities, cgroup memory and pid limits.
What differs for a build:

- ``--unshare-net`` always: no network at all (not even the host's loopback,
  where PostgreSQL, Redis and fcplane listen). Everything the step needs was
  downloaded on the host beforehand, without executing it.
- ``/code`` is the build's input directory (wheels, sdists, the extracted
  source), read-only; pip is mounted read-only at ``/var/fc/build/lib/pip``
  (from fcplane's own environment; nothing else of it).
- Nothing of the host is writable. The step writes into the sandbox's private
  ``/tmp`` (tmpfs, capped), and its result leaves as a tar stream on stdout,
  which the host reads with a byte cap. A process a ``setup.py`` leaves behind
  dies with the PID namespace when the step ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pip

from service.emulator.runtime.limits import Limits, LimitSettings
from service.emulator.runtime.sandbox import InstanceMounts, Sandbox, SandboxUnavailable, args_pipe

from .contract import BuildFailed
from .process import Deadline, Tail, kill_group, pump

BUILD_DIR = "/var/fc/build"
RUNNER = f"{BUILD_DIR}/child/runner.py"
PIP_LIB = f"{BUILD_DIR}/lib"
INPUT = "/code"  # the sandbox's view of the build's input directory
STEP_FAILED = 3  # runner.py's exit status when pip/npm failed (its message is on stderr)
NO_SPACE = "No space left on device"
_TAR_OVERHEAD = 64 << 20  # headers and padding of the result's tar stream
_SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "SOURCE_DATE_EPOCH": "315532800",  # 1980-01-01: wheels built from source are reproducible
}
_sandboxes: dict[Path, Sandbox] = {}


def _sandbox(state_dir: Path) -> Sandbox:
    """One probed sandbox per state directory (the probe runs bwrap once)."""
    found = _sandboxes.get(state_dir)
    if found is None:
        try:
            found = Sandbox.create(state_dir)
        except SandboxUnavailable as exc:
            raise BuildFailed(
                f"builds need the bubblewrap sandbox, which is unavailable here: {exc}",
                code="sandbox_unavailable",
            ) from exc
        _sandboxes[state_dir] = found
    return found


def _options(sandbox: Sandbox, input_dir: Path, tmp_bytes: int) -> list[str]:
    mounts = InstanceMounts(
        code_dir=input_dir,
        opt_dir=None,
        tmp_bytes=tmp_bytes,
        share_network=False,
        hostname="fcplane-build",
    )
    options = sandbox.bwrap_options(mounts)
    # bwrap makes missing parents 0700, which uid 20000 could not enter.
    for directory in (BUILD_DIR, PIP_LIB):
        options += ["--perms", "0755", "--dir", directory]
    options += ["--ro-bind", str(Path(__file__).resolve().parent / "child"), f"{BUILD_DIR}/child"]
    options += ["--ro-bind", str(Path(pip.__file__).resolve().parent), f"{PIP_LIB}/pip"]
    return options


async def run_step(
    step: dict[str, Any],
    *,
    input_dir: Path,
    result_tar: Path,
    state_dir: Path,
    deadline: Deadline,
    memory_mb: int,
    max_output_bytes: int,
) -> str:
    """Run one runner.py step in the sandbox; its result (a tar) lands in ``result_tar``.

    Returns the step's log (stderr, tail). Raises BuildFailed for a failed step,
    a timeout, an out-of-memory kill or a result over ``max_output_bytes``.
    """
    deadline.check()
    sandbox = await asyncio.to_thread(_sandbox, state_dir)
    await asyncio.to_thread(_open_up, input_dir)
    # The private /tmp holds pip's work files and the result; the kernel refuses
    # writes past this, and the memory group counts it too.
    tmp_bytes = 2 * max_output_bytes + (256 << 20)
    argv = [str(sandbox.interpreter), "-I", "-S", "-B", RUNNER, json.dumps(step)]
    limits = Limits()
    instance = limits.for_instance(
        f"build-{secrets.token_hex(4)}",
        LimitSettings(cpu=float(os.cpu_count() or 1), memory_mb=memory_mb),
    )
    args_fd = args_pipe(_options(sandbox, input_dir, tmp_bytes))
    log = Tail()
    too_large = False
    try:
        try:
            proc = await asyncio.create_subprocess_exec(
                *instance.wrap(sandbox.command(argv, args_fd)),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=_SANDBOX_ENV,
                cwd="/",
                pass_fds=(args_fd,),
                start_new_session=True,
            )
        finally:
            os.close(args_fd)
        if instance.needs_process:
            instance.attach(await _sandboxed_pid(proc.pid))

        async def collect() -> None:
            nonlocal too_large
            assert proc.stdout is not None
            written = 0
            with result_tar.open("wb") as out:
                while chunk := await proc.stdout.read(1 << 20):
                    written += len(chunk)
                    if written > max_output_bytes + _TAR_OVERHEAD:
                        too_large = True
                        kill_group(proc)
                        return
                    out.write(chunk)

        try:
            await asyncio.wait_for(
                asyncio.gather(collect(), pump(proc.stderr, log), proc.wait()),
                max(deadline.remaining(), 0.001),
            )
        except TimeoutError:
            raise deadline.expired(log.text()) from None
        finally:
            kill_group(proc)
            instance.kill_all()
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
        text = log.text()
        if instance.oom_killed():
            raise BuildFailed(
                f"the build ran out of memory (limit {memory_mb} MB)", text, code="out_of_memory"
            )
        if too_large or NO_SPACE in text:
            raise BuildFailed(
                f"the build's output is larger than its limit of {max_output_bytes} bytes",
                text,
                code="output_too_large",
            )
        if proc.returncode != 0:
            raise BuildFailed(_reason(text, proc.returncode), text, code="install_failed")
        return text
    finally:
        await instance.release()
        limits.close()


def _reason(log: str, returncode: int | None) -> str:
    """The runner's own summary line, else the last error line of pip/npm."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    summary = next((x for x in reversed(lines) if x.startswith("fcplane-build: ")), "")
    error = next(
        (x for x in reversed(lines) if x.startswith(("ERROR:", "npm ERR!", "npm error"))), ""
    )
    summary = summary.removeprefix("fcplane-build: ")
    if summary or error:
        return ": ".join(part for part in (summary, error) if part)
    if returncode is not None and returncode < 0:
        return f"the build step was killed by signal {-returncode}"
    return f"the build step failed (exit status {returncode})"


def _open_up(root: Path) -> None:
    """The sandbox user (uid 20000) must read the input: 0755 dirs, 0644 files (0755 if x)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, 0o755 if mode & 0o111 else 0o644)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(p) for p in children.read().split()]
    except OSError:
        return []


async def _sandboxed_pid(outer: int, timeout_s: float = 5.0) -> int:
    """The host pid of the runner (bwrap -> the namespace's init -> runner), for rlimits."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while loop.time() < end:
        for init in _children(outer):
            found = _children(init)
            if found:
                return found[0]
        await asyncio.sleep(0.002)
    return outer

"""CPU and memory limits of instance processes: cgroup v1 where allowed, else rlimits/duty cycle.

FC gives an instance a vCPU share and a memory size; a local emulator that only
*reports* them would hide exactly the failures users come to it to find (a
handler that is slow at 0.5 vCPU, or dies at 128 MB). So the limits are real:

- cgroup v1 (root on Linux, as in CI): one child group per instance under
  ``<mount>/fcplane/<runtime id>/<instance>`` with ``cpu.cfs_quota_us``,
  ``memory.limit_in_bytes`` and ``pids.max``. The kernel OOM-kills a runaway
  allocation at once, and ``memory.max_usage_in_bytes`` (reset before every
  request) gives an honest per-request peak.
- portable fallback (a developer laptop without cgroup rights): ``RLIMIT_DATA``
  set by the instance's launcher (``ulimit -d``) so a runaway allocation fails
  fast (Python sees a MemoryError), a SIGSTOP/SIGCONT CPU-time budget enforced by the parent while
  a request runs, and ``VmHWM`` from ``/proc`` (reset through ``clear_refs``)
  for the peak.

The instance process joins its groups before it executes anything (a tiny
``sh`` wrapper writes its own pid), so interpreter start-up is limited and
accounted too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

LimitsMode = Literal["auto", "cgroup", "portable"]

# The kernel's default CFS period. A 20 ms period was tried for smoother
# throttling of short handlers, but measured worse here: a 0.5 share ran at
# ~0.65 under load (per-CPU runtime slices are large next to a short period).
# The smallest FC share (0.05 vCPU) gets 5 ms per period.
CFS_PERIOD_US = 100_000
DUTY_PERIOD_S = 0.1
DUTY_TICK_S = 0.005
# A fork bomb in a handler must not take the host down with it; FC caps an
# instance's processes and threads too (the exact figure is unconfirmed).
MAX_PIDS = 1024
TIMEOUT_MECHANISM = "parent deadline + SIGKILL of the instance process group"


def _v1_mount(controller: str) -> Path | None:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "cgroup" and controller in parts[3].split(","):
            return Path(parts[1])
    return None


def _try_group(controller: str, probe_file: str, probe_value: str, run_id: str) -> Path | None:
    """Create this runtime's base group for a controller, or None when not allowed here."""
    mount = _v1_mount(controller)
    if mount is None:
        return None
    base = mount / "fcplane" / run_id
    probe = base / "probe"
    try:
        probe.mkdir(parents=True, exist_ok=True)
        (probe / probe_file).write_text(probe_value)
    except OSError:
        _rmdir(probe)
        _rmdir(base)
        return None
    _rmdir(probe)
    return base


def _rmdir(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _write(path: Path, value: str) -> None:
    with contextlib.suppress(OSError):
        path.write_text(value)


def _sweep_stale(mount: Path | None) -> None:
    """Remove empty groups left by earlier runtimes that died without close()."""
    if mount is None or not (mount / "fcplane").is_dir():
        return
    for run in (mount / "fcplane").iterdir():
        pid = run.name.split("-", 1)[0]
        if pid.isdigit() and Path(f"/proc/{pid}").exists():
            continue
        for child in run.iterdir() if run.is_dir() else ():
            if child.is_dir():
                _rmdir(child)
        _rmdir(run)


@dataclass
class LimitSettings:
    cpu: float
    memory_mb: int


class Limits:
    """Chooses the mechanisms once per runtime and hands out per-instance controllers."""

    def __init__(self, mode: LimitsMode = "auto") -> None:
        run_id = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.cpu_base: Path | None = None
        self.mem_base: Path | None = None
        self.pids_base: Path | None = None
        if mode != "portable":
            _sweep_stale(_v1_mount("cpu"))
            _sweep_stale(_v1_mount("memory"))
            _sweep_stale(_v1_mount("pids"))
            self.cpu_base = _try_group("cpu", "cpu.cfs_quota_us", "-1", run_id)
            self.mem_base = _try_group("memory", "memory.limit_in_bytes", str(1 << 30), run_id)
            self.pids_base = _try_group("pids", "pids.max", "max", run_id)
            if mode == "cgroup" and (self.cpu_base is None or self.mem_base is None):
                raise RuntimeError("cgroup v1 cpu/memory groups cannot be created here")

    def describe(self) -> dict[str, str]:
        return {
            "cpu": "cgroup-v1 cpu.cfs_quota_us" if self.cpu_base else "sigstop-duty-cycle",
            "memory": "cgroup-v1 memory.limit_in_bytes" if self.mem_base else "rlimit-data",
            "timeout": TIMEOUT_MECHANISM,
            "processes": f"cgroup-v1 pids.max={MAX_PIDS}" if self.pids_base else "none",
        }

    def for_instance(self, instance_id: str, settings: LimitSettings) -> InstanceLimits:
        return InstanceLimits(self, instance_id, settings)

    def close(self) -> None:
        """Remove this runtime's base groups (and the shared parent once nobody uses it)."""
        for base in (self.cpu_base, self.mem_base, self.pids_base):
            if base is not None:
                for child in base.iterdir() if base.is_dir() else ():
                    if child.is_dir():
                        _kill_procs(child)
                        _rmdir(child)
                _rmdir(base)
                _rmdir(base.parent)


def _kill_procs(group: Path) -> int:
    """SIGKILL every process in a group; returns how many were still there."""
    try:
        pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return 0
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


class InstanceLimits:
    """The limits of one instance process; lives and dies with it."""

    def __init__(self, limits: Limits, instance_id: str, settings: LimitSettings) -> None:
        self._settings = settings
        self._pid: int | None = None
        self._pgid: int | None = None
        self._cpu_group: Path | None = None
        self._mem_group: Path | None = None
        self._pids_group: Path | None = None
        self._peak_fd: int | None = None  # kept-open files read or written per request
        self._status_fd: int | None = None
        self._clear_fd: int | None = None
        self._duty_task: asyncio.Task[None] | None = None
        self._active = 0
        if limits.cpu_base is not None:
            group = limits.cpu_base / instance_id
            with contextlib.suppress(OSError):
                group.mkdir()
                (group / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
                quota = max(1000, round(settings.cpu * CFS_PERIOD_US))
                (group / "cpu.cfs_quota_us").write_text(str(quota))
                # Weight in proportion to the share, so busy instances split a
                # contended core as their vCPU sizes say.
                _write(group / "cpu.shares", str(max(2, round(1024 * settings.cpu))))
                self._cpu_group = group
        if limits.mem_base is not None:
            group = limits.mem_base / instance_id
            with contextlib.suppress(OSError):
                group.mkdir()
                limit = str(settings.memory_mb * 1024 * 1024)
                (group / "memory.limit_in_bytes").write_text(limit)
                # No swap on FC: without this a swap-enabled host would let the
                # instance run on past its size, slowly, instead of dying.
                _write(group / "memory.memsw.limit_in_bytes", limit)
                self._mem_group = group
        if limits.pids_base is not None:
            group = limits.pids_base / instance_id
            with contextlib.suppress(OSError):
                group.mkdir()
                (group / "pids.max").write_text(str(MAX_PIDS))
                self._pids_group = group

    def wrap(self, argv: list[str]) -> list[str]:
        """Make the process join its groups (or take its memory rlimit) before exec, so
        all of it is limited."""
        groups = (self._cpu_group, self._mem_group, self._pids_group)
        steps = [f'echo $$ > "{g / "cgroup.procs"}"' for g in groups if g]
        if self._mem_group is None:
            # Set here and inherited through bwrap: prlimit() on the running instance
            # would need CAP_SYS_RESOURCE inside the sandbox's user namespace, which
            # newer kernels refuse to the host's root (EPERM).
            steps.append(f"ulimit -d {self._settings.memory_mb * 1024}")
        if not steps:
            return argv
        return ["/bin/sh", "-c", f'{"; ".join(steps)}; exec "$@"', "sh", *argv]

    @property
    def needs_process(self) -> bool:
        """Whether ``attach`` must get the instance's own process (portable limits)."""
        return self._mem_group is None

    def attach(self, pid: int) -> None:
        self._pid = pid
        # The duty cycle stops the whole process group; in a sandbox that is the
        # group of the namespace's init (bwrap's --new-session), not the pid's own.
        try:
            self._pgid = os.getpgid(pid)
        except OSError:
            self._pgid = pid
        if self._mem_group is not None:
            # Kept open: the peak is reset and read on every request, and an
            # open() per access costs more than the pread/pwrite themselves.
            with contextlib.suppress(OSError):
                self._peak_fd = os.open(self._mem_group / "memory.max_usage_in_bytes", os.O_RDWR)
        if self._mem_group is None:
            with contextlib.suppress(OSError):
                self._status_fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
                self._clear_fd = os.open(f"/proc/{pid}/clear_refs", os.O_WRONLY)

    @property
    def throttled_by_parent(self) -> bool:
        return self._cpu_group is None and self._settings.cpu < 1.0

    def begin_request(self) -> None:
        """Reset the peak-memory mark and start the duty cycle when needed."""
        # Only when idle: with concurrent requests (custom runtimes) a reset
        # would erase the peak of a request still in flight.
        if self._active == 0 and self._mem_group is not None:
            if self._peak_fd is not None:
                with contextlib.suppress(OSError):
                    os.pwrite(self._peak_fd, b"0", 0)
        elif self._active == 0 and self._clear_fd is not None:
            with contextlib.suppress(OSError):
                os.pwrite(self._clear_fd, b"5", 0)  # resets VmHWM to the current RSS
        self._active += 1
        if self.throttled_by_parent and self._duty_task is None:
            self._duty_task = asyncio.get_running_loop().create_task(self._duty_cycle())

    def end_request(self) -> float:
        """Peak memory (MB) since begin_request; stops the duty cycle when idle."""
        self._active = max(0, self._active - 1)
        if self._active == 0:
            self._stop_duty()
        return self.peak_mb()

    def peak_mb(self) -> float:
        if self._mem_group is not None:
            try:
                if self._peak_fd is not None:
                    peak = int(os.pread(self._peak_fd, 32, 0))
                else:
                    peak = _read_int(self._mem_group / "memory.max_usage_in_bytes") or 0
            except (OSError, ValueError):
                peak = 0
            return round(peak / (1024 * 1024), 2)
        if self._status_fd is None:
            return 0.0
        try:
            status = os.pread(self._status_fd, 8192, 0)
        except OSError:
            return 0.0
        start = status.find(b"VmHWM:")
        if start < 0:
            return 0.0
        return round(int(status[start + 6 : status.index(b"kB", start)]) / 1024, 2)

    def oom_killed(self) -> bool:
        """Whether the kernel killed the instance for exceeding its memory group."""
        if self._mem_group is None:
            return False
        try:
            control = (self._mem_group / "memory.oom_control").read_text()
        except OSError:
            return False
        for line in control.splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1]) > 0
        failcnt = _read_int(self._mem_group / "memory.failcnt")
        return bool(failcnt)

    def _stop_duty(self) -> None:
        if self._duty_task is not None:
            self._duty_task.cancel()
            self._duty_task = None
            self._signal(signal.SIGCONT)

    async def _duty_cycle(self) -> None:
        # The parent plays the CFS bandwidth controller: the instance may use
        # cpu x elapsed CPU-seconds; past that budget it is stopped until the
        # budget catches up. Budgeting CPU time (not wall-clock on/off windows)
        # keeps the share right when other processes also compete for the
        # cores. Unused budget is capped at one period, as CFS does not carry
        # quota over either. Only while a request runs.
        share = self._settings.cpu
        cap_ns = share * DUTY_PERIOD_S * 1e9
        started, used_at_start = time.monotonic(), self._cpu_ns()
        stopped = False
        try:
            while True:
                await asyncio.sleep(DUTY_TICK_S)
                used = self._cpu_ns() - used_at_start
                allowed = share * (time.monotonic() - started) * 1e9
                if allowed - used > cap_ns:
                    started += (allowed - used - cap_ns) / (share * 1e9)
                if used > allowed and not stopped:
                    stopped = True
                    self._signal(signal.SIGSTOP)
                elif used <= allowed and stopped:
                    stopped = False
                    self._signal(signal.SIGCONT)
        finally:
            self._signal(signal.SIGCONT)

    def _cpu_ns(self) -> int:
        """CPU time of all the instance's threads, in ns (schedstat is ns-precise)."""
        total = 0
        try:
            for task in os.listdir(f"/proc/{self._pid}/task"):
                with open(f"/proc/{self._pid}/task/{task}/schedstat") as stat:
                    total += int(stat.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        return total

    def _signal(self, sig: signal.Signals) -> None:
        if self._pid is not None and self._pgid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pgid, sig)

    def kill_all(self) -> None:
        """SIGKILL every process in the instance's groups (escapees of its process group)."""
        for group in (self._pids_group, self._mem_group, self._cpu_group):
            if group is not None:
                _kill_procs(group)

    async def release(self, timeout_s: float = 5.0) -> None:
        """Forget the process and remove its groups once the last process in them is gone."""
        self._stop_duty()
        self._pid = None
        for fd in (self._peak_fd, self._status_fd, self._clear_fd):
            if fd is not None:
                os.close(fd)
        self._peak_fd = self._status_fd = self._clear_fd = None
        groups = [g for g in (self._cpu_group, self._mem_group, self._pids_group) if g]
        deadline = time.monotonic() + timeout_s
        while groups:
            for group in list(groups):
                # A killed process leaves its group a moment after it exits.
                if _kill_procs(group) == 0:
                    _rmdir(group)
                if not group.exists():
                    groups.remove(group)
            if not groups or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)

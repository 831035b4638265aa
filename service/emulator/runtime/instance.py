"""One FC instance = one sandbox (see sandbox.py): spawn, environment, log capture, stop.

Runtime-specific behaviour (how a request reaches the code) lives in the
subclasses in ``python_instance`` and ``custom_instance``; this base owns what
every instance shares with FC: its environment variables, its sandbox (or,
with ``--unsafe-no-sandbox``, its per-instance scratch directory), its limits
and the log lines it writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import time
from pathlib import Path

from .contract import FunctionSpec, HttpRequest, InvokeRequest, InvokeResult
from .fc_errors import UNHANDLED, error_body, log_end, log_start
from .limits import InstanceLimits
from .sandbox import InstanceMounts, NoSandbox, Sandbox, args_pipe

MAX_LOG_BYTES = 1 << 20  # per request; the tail is what FC shows anyway
_PATH = "/usr/local/bin:/usr/bin:/bin"


def new_instance_id() -> str:
    return f"c-{int(time.time()):08x}-{secrets.token_hex(8)}"


class StartFailure(Exception):
    """The instance could not be made ready; carries the result for the waiting request."""

    def __init__(self, result: InvokeResult) -> None:
        super().__init__(result.body.decode(errors="replace"))
        self.result = result


def failure(message: str, log: bytes = b"") -> InvokeResult:
    return InvokeResult(status=200, body=error_body(message), error_type=UNHANDLED, log=log)


def _capped(buf: bytearray) -> None:
    if len(buf) > MAX_LOG_BYTES:
        del buf[: len(buf) - MAX_LOG_BYTES]


class Instance:
    """Base class; subclasses implement ``_launch``, ``invoke`` and ``_pre_stop``."""

    concurrency = 1

    def __init__(
        self,
        spec: FunctionSpec,
        instance_id: str,
        code_dir: Path,
        opt_dir: Path | None,
        scratch_root: Path,
        limits: InstanceLimits,
        sandbox: Sandbox | NoSandbox,
    ) -> None:
        self.spec = spec
        self.instance_id = instance_id
        self.code_dir = code_dir
        self.opt_dir = opt_dir
        self.tmp_dir = scratch_root / instance_id
        self.limits = limits
        self.sandbox = sandbox
        self.relay_dir: Path | None = None  # custom runtimes in a sandbox: the relay's socket
        self.busy = 0
        self.started_at = time.time()
        self.last_used_at = self.started_at
        self.dead = False
        self.proc: asyncio.subprocess.Process | None = None
        self.ready: asyncio.Task[None] | None = None
        self._log_fd: int | None = None
        self._sinks: list[bytearray] = []
        self._orphan_log = bytearray()  # output while no request runs: shown with the next
        self._watch: asyncio.Task[None] | None = None
        self._stopped = False

    # -- what the manager sees -------------------------------------------------

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    @property
    def interpreter(self) -> str:
        raise NotImplementedError

    def is_ready(self) -> bool:
        ready = self.ready
        return (
            ready is not None
            and ready.done()
            and not ready.cancelled()
            and ready.exception() is None
        )

    async def start(self, request_id: str) -> None:
        """Spawn and initialize; raises StartFailure. Its log goes to the first request."""
        if not self.sandbox.enabled:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)  # a sandbox has its own /tmp
        sink = self.open_log()
        try:
            await self._launch()
            if self.spec.initializer:
                sink += log_start("Initialize", request_id)
                await self._initialize(request_id)
                self._read_log()
                sink += log_end("Initialize", request_id)
        except StartFailure as exc:
            await self._kill()
            exc.result.log = self.close_log(sink)
            raise
        except BaseException:
            await self._kill()
            raise
        self._orphan_log[:0] = self.close_log(sink)

    async def invoke(self, request: InvokeRequest) -> InvokeResult:
        raise NotImplementedError

    async def invoke_http(self, request: HttpRequest) -> InvokeResult:
        raise NotImplementedError

    async def stop(self) -> None:
        """preStop (if configured and the process is healthy), then end the process group."""
        if self._stopped:
            return
        self._stopped = True
        if not self.dead and self.spec.pre_stop and self.is_ready():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pre_stop(), self.spec.pre_stop_timeout_s)
        await self._terminate()
        await self._kill()

    # -- hooks -----------------------------------------------------------------

    async def _launch(self) -> None:
        raise NotImplementedError

    async def _initialize(self, request_id: str) -> None:
        raise NotImplementedError

    async def _pre_stop(self) -> None:
        raise NotImplementedError

    async def _terminate(self) -> None:
        """A polite ending before SIGKILL; the base just sends SIGTERM and waits briefly."""
        self._signal(signal.SIGTERM)
        await self._wait_exit(1.0)

    # -- process plumbing ------------------------------------------------------

    def mounts(self) -> InstanceMounts:
        return InstanceMounts(
            code_dir=self.code_dir,
            opt_dir=self.opt_dir,
            tmp_bytes=self.spec.disk_mb * 1024 * 1024,
            # A custom runtime always gets its own network namespace: its port is
            # then its own, as on FC (see sandbox.py for how the emulator gets in).
            share_network=self.spec.internet_access and not self.spec.runtime.startswith("custom"),
            hostname=self.instance_id[:63],
            relay_dir=self.relay_dir,
        )

    def environment(self, listen_port: int) -> dict[str, str]:
        spec = self.spec
        mounts = self.mounts()
        code = self.sandbox.code_path(mounts)
        opt = self.sandbox.opt_path(mounts)
        tmp = self.sandbox.tmp_path(self.tmp_dir)
        python_dirs = [code, *([f"{opt}/python"] if opt else [])]
        env = {
            "PATH": ":".join([*([f"{opt}/bin"] if opt else []), code, f"{code}/bin", _PATH]),
            "LD_LIBRARY_PATH": ":".join([code, f"{code}/lib", *([f"{opt}/lib"] if opt else [])]),
            "PYTHONPATH": ":".join(python_dirs),
            "LANG": "C.UTF-8",
            "HOME": tmp,
            "TMPDIR": tmp,
        }
        env.update({key: self.map_path(value) for key, value in spec.environment.items()})
        creds = spec.credentials
        # The FC_ prefix is reserved: user variables never override these.
        env.update(
            {
                "FC_FUNC_CODE_PATH": code + "/",
                "FC_ACCOUNT_ID": spec.account_id,
                "FC_FUNCTION_HANDLER": spec.handler,
                "FC_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "FC_FUNCTION_NAME": spec.name,
                "FC_REGION": spec.region,
                "FC_CUSTOM_LISTEN_PORT": str(listen_port),
                "FC_INSTANCE_ID": self.instance_id,
                "FC_FUNCTION_VERSION": spec.version_id or "LATEST",
                # Without a role the variables exist but are empty, as on FC.
                "ALIBABA_CLOUD_ACCESS_KEY_ID": creds.access_key_id if creds else "",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET": creds.access_key_secret if creds else "",
                "ALIBABA_CLOUD_SECURITY_TOKEN": creds.security_token if creds else "",
            }
        )
        if opt and not self.sandbox.enabled:
            env["FC_EMULATOR_OPT_DIR"] = opt  # where /opt is for this instance
        return env

    def map_path(self, value: str) -> str:
        """Without a sandbox: FC paths (``/code``, ``/opt``) in a value -> this instance's dirs.

        Applied to each ``:``-separated part, so ``PATH=/opt/bin:/usr/bin`` and
        ``--root=/code/static`` style values written for FC keep working. In a
        sandbox ``/code`` and ``/opt`` are real, and values pass unchanged.
        """
        if self.sandbox.enabled:
            return value
        mapped = []
        for part in value.split(":"):
            head, eq, path = part.rpartition("=")
            for prefix, local in (("/code", self.code_dir), ("/opt", self.opt_dir)):
                if local is not None and (path == prefix or path.startswith(prefix + "/")):
                    path = str(local) + path[len(prefix) :]
                    break
            mapped.append(head + eq + path)
        return ":".join(mapped)

    async def spawn(self, argv: list[str], env: dict[str, str], *, pipes: bool) -> None:
        """Start ``argv`` in the instance's sandbox, with exactly ``env`` as its environment."""
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        pipe = asyncio.subprocess.PIPE
        args_fd = -1
        command, cwd = argv, str(self.code_dir)
        pass_fds: tuple[int, ...] = ()
        if isinstance(self.sandbox, Sandbox):
            # bwrap reads its arguments from a pipe, so neither `ps` on the host
            # nor /proc/1/cmdline inside shows host paths; its own environment is
            # the instance's, so /proc/1/environ holds nothing of the emulator's.
            args_fd = args_pipe(self.sandbox.bwrap_options(self.mounts()))
            command, cwd, pass_fds = self.sandbox.command(argv, args_fd), "/", (args_fd,)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.limits.wrap(command),
                stdin=pipe if pipes else asyncio.subprocess.DEVNULL,
                stdout=pipe if pipes else write_fd,
                stderr=write_fd,
                env=env,
                cwd=cwd,
                pass_fds=pass_fds,
                start_new_session=True,  # its own process group: limits and kills reach children
            )
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
            if args_fd >= 0:
                os.close(args_fd)
        self._log_fd = read_fd
        asyncio.get_running_loop().add_reader(read_fd, self._read_log)
        pid = self.proc.pid
        if self.sandbox.enabled and self.limits.needs_process:
            # The portable limits watch the process itself, two levels down
            # (outer bwrap -> the namespace's init -> the instance's command).
            pid = await _sandboxed_command_pid(pid)
        self.limits.attach(pid)
        self._watch = asyncio.get_running_loop().create_task(self._watch_exit(self.proc))

    async def _watch_exit(self, proc: asyncio.subprocess.Process) -> None:
        await proc.wait()
        self.dead = True

    def _read_log(self) -> None:
        fd = self._log_fd
        if fd is None:
            return
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:  # every writer closed: the process group is gone
                self._close_log_fd()
                return
            for sink in self._sinks or [self._orphan_log]:
                sink += chunk
                _capped(sink)

    def _close_log_fd(self) -> None:
        if self._log_fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._log_fd)
            os.close(self._log_fd)
            self._log_fd = None

    def open_log(self) -> bytearray:
        sink = bytearray(self._orphan_log)
        self._orphan_log.clear()
        self._sinks.append(sink)
        return sink

    def close_log(self, sink: bytearray) -> bytes:
        # Output written before the reply is already in the pipe; read it now so
        # it lands in this request's log rather than the next one's.
        self._read_log()
        with contextlib.suppress(ValueError):
            self._sinks.remove(sink)
        return bytes(sink)

    def _signal(self, sig: signal.Signals) -> None:
        # Once the leader is reaped its pid (= group id) may be reused: hands off.
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    async def _wait_exit(self, timeout_s: float) -> bool:
        if self.proc is None:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(self.proc.wait()), timeout_s)
        except TimeoutError:
            return False
        return True

    async def _kill(self) -> None:
        """SIGKILL the whole instance (its PID namespace, its cgroups) and release everything."""
        self.dead = True
        self._signal(signal.SIGKILL)
        self.limits.kill_all()  # anything that left the process group (setsid) is still here
        await self._wait_exit(5.0)
        self._read_log()
        self._close_log_fd()
        if self._watch is not None:
            self._watch.cancel()
        await self.limits.release()
        if not self.sandbox.enabled:
            await asyncio.to_thread(shutil.rmtree, self.tmp_dir, True)
        if self.relay_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self.relay_dir, True)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            text = children.read()
    except OSError:
        return []
    return [int(p) for p in text.split()]


async def _sandboxed_command_pid(outer: int, timeout_s: float = 5.0) -> int:
    """The host pid of the command bwrap runs (its init's first child); ``outer`` if gone."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for init in _children(outer):
            found = _children(init)
            if found:
                return found[0]
        await asyncio.sleep(0.002)
    return outer

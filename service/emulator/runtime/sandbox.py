"""The instance sandbox: every instance runs inside bubblewrap (``bwrap``) namespaces.

What an instance gets (guaranteed while the sandbox is on):

- its own PID, IPC and UTS namespaces; the emulator kills the sandbox's outer
  ``bwrap``, whose PID-1 child dies with it (``--die-with-parent``), and the
  kernel then kills every process left in the namespace — ``setsid`` and
  double-fork escapees included;
- a mount namespace built from nothing: the function's code at ``/code`` and its
  merged layers at ``/opt`` (both read-only), a private ``/tmp`` tmpfs capped at
  the function's ``diskSize``, a private ``/dev/shm``, ``/usr`` (and the
  emulator's own interpreter prefix) read-only with every host ``site-packages``
  masked, and a short allow-list of ``/etc`` files (name resolution, CA
  certificates, time zone) with a synthetic ``passwd``/``group``. Nothing else of
  the host: not fcplane's data dir, the emulator store, other functions' code,
  the project tree or ``/root``;
- a clean environment: FC's variables and the function's ``environmentVariables``
  only (``bwrap`` itself is started with exactly that environment, and its own
  arguments travel over a pipe, so ``/proc/1`` shows no host paths);
- an unprivileged user: as root, the instance drops to uid/gid ``SANDBOX_UID``
  with no capabilities and ``no_new_privs``; started by a non-root user, it
  runs in a user namespace of its own (no capabilities, ``SANDBOX_UID`` inside)
  — the kernel then still sees the emulator's user, which cannot be avoided
  without a setuid helper;
- ``internetAccess: false`` (and every custom runtime) → a network namespace
  with only a loopback interface.

How the emulator reaches a custom runtime's server: each custom-runtime instance
has a network namespace of its own, so any number of instances (of any number of
functions) listen on the same port, 9000 by default, as on FC. The emulator
reaches that port through a small relay (``relay.py``, stdlib only) that runs as
the sandbox's first process, starts the user's command, waits until the port
accepts connections, and then forwards a unix socket — in a per-instance
directory bind-mounted into the sandbox — to ``127.0.0.1:<port>``. A relay was
chosen over per-instance veth pairs (root only, host firewall and routing
changes to undo) and over ``setns`` into the instance's namespace (needs
CAP_SYS_ADMIN in the emulator's own namespace, so not on a developer laptop):
it works wherever ``bwrap`` works and touches nothing on the host.

What the sandbox is not: a multi-tenant boundary. It shares the host kernel
(no seccomp filter, no microVM as on FC), and with ``internetAccess: true`` a
standard-runtime instance shares the host's network namespace, so it can reach
services on the host's loopback (fcplane and the emulator answer only with
credentials). Custom runtimes have no outbound network locally.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SANDBOX_UID = 20000  # never fcplane's own user (the container image's user is 10001)
SANDBOX_GID = 20000
RUNTIME_DIR = "/var/fc/runtime"  # the emulator's bootstrap and relay, read-only
RELAY_DIR = "/var/fc/relay"  # the relay's unix socket, the only host directory it may write
RELAY_SOCKET = "s"
log = logging.getLogger(__name__)

# /etc entries an instance may read: name resolution, TLS roots, time zone,
# dynamic linker and Debian's alternatives. Anything else (shadow, ssh keys,
# service configs holding secrets) stays out.
_ETC_ALLOWED = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "debian_version",
    "gai.conf",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "protocols",
    "resolv.conf",
    "services",
    "ssl",
    "timezone",
)
_TOP_LEVEL_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_PROBE_TIMEOUT_S = 10.0
_MAX_ARGS_BYTES = 60_000  # below a pipe's buffer: written whole before bwrap starts


class SandboxUnavailable(Exception):
    """The sandbox cannot be built here; the message says why, in one line."""


@dataclass(frozen=True)
class InstanceMounts:
    """What one instance's sandbox shows besides the runtime files."""

    code_dir: Path
    opt_dir: Path | None
    tmp_bytes: int
    share_network: bool
    hostname: str
    relay_dir: Path | None = None


def runtime_files_dir() -> Path:
    """The directory holding bootstrap.py and relay.py (mounted at RUNTIME_DIR)."""
    return Path(__file__).resolve().parent / "child"


def base_interpreter() -> Path:
    """The interpreter behind the emulator's virtualenv: the venv itself stays outside."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return Path(os.path.realpath(base))


def _host_site_dirs() -> list[str]:
    """Every site-packages/dist-packages directory of the host's Pythons, to be masked."""
    found: set[str] = set()
    prefixes = {sys.base_prefix, "/usr", "/usr/local"}
    for prefix in prefixes:
        for lib in ("lib", "lib64"):
            root = Path(prefix) / lib
            if not root.is_dir():
                continue
            for child in root.glob("python3*"):
                for name in ("site-packages", "dist-packages"):
                    if (child / name).is_dir():
                        found.add(str(child / name))
    with contextlib.suppress(Exception):
        found.update(p for p in site.getsitepackages() if Path(p).is_dir())
    return sorted(found)


class Sandbox:
    """Builds the ``bwrap`` command line for instances; one per runtime."""

    enabled = True

    def __init__(self, bwrap: str, state_dir: Path) -> None:
        self.bwrap = bwrap
        self.as_root = os.geteuid() == 0
        self.interpreter = base_interpreter()
        self.prefix = Path(sys.base_prefix).resolve()
        self.masked = _host_site_dirs()
        self.setpriv = shutil.which("setpriv") if self.as_root else None
        if self.as_root and self.setpriv is None:
            raise SandboxUnavailable("setpriv (util-linux) is needed to drop to the sandbox user")
        self._etc = state_dir / "etc"
        self._write_identity()
        # What every instance sees of the host, read once: the per-instance
        # parts are added around it by bwrap_options.
        self._host_view = tuple(self._host_options())

    @classmethod
    def create(cls, state_dir: Path) -> Sandbox:
        """Find bwrap and prove that it can build a sandbox here; else SandboxUnavailable."""
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed; install the `bubblewrap` package"
            )
        sandbox = cls(bwrap, state_dir)
        sandbox._probe()
        return sandbox

    def _write_identity(self) -> None:
        self._etc.mkdir(parents=True, exist_ok=True)
        os.chmod(self._etc, 0o755)
        files = {
            "passwd": (
                "root:x:0:0:root:/root:/bin/sh\n"
                f"user:x:{SANDBOX_UID}:{SANDBOX_GID}:FC function:/tmp:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
            ),
            "group": f"root:x:0:\nuser:x:{SANDBOX_GID}:\nnogroup:x:65534:\n",
        }
        for name, text in files.items():
            path = self._etc / name
            path.write_text(text)
            os.chmod(path, 0o644)

    def _probe(self) -> None:
        probe_dir = self._etc.parent / "probe-code"
        probe_dir.mkdir(exist_ok=True)
        os.chmod(probe_dir, 0o755)
        mounts = InstanceMounts(probe_dir, None, 1 << 20, False, "probe")
        read_fd = -1
        try:
            read_fd = args_pipe(self.bwrap_options(mounts))
            done = subprocess.run(
                self.command([str(self.interpreter), "-I", "-S", "-c", "pass"], read_fd),
                pass_fds=(read_fd,),
                env={},
                capture_output=True,
                timeout=_PROBE_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxUnavailable(f"bwrap cannot be run: {exc}") from exc
        finally:
            if read_fd >= 0:
                os.close(read_fd)
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines()
            raise SandboxUnavailable(
                f"bwrap cannot build a sandbox here ({why[-1] if why else done.returncode}); "
                "user, PID or mount namespaces are probably refused"
            )

    def describe(self) -> dict[str, str]:
        user = (
            f"uid {SANDBOX_UID} (dropped from root)"
            if self.as_root
            else f"uid {SANDBOX_UID} inside a user namespace (the emulator's user on the host)"
        )
        return {
            "sandbox": "bubblewrap",
            "sandbox_tool": self.bwrap,
            "sandbox_user": user,
            "sandbox_namespaces": "pid ipc uts mount; net unless internetAccess (always for "
            "custom runtimes)",
        }

    # -- command lines ---------------------------------------------------------

    def code_path(self, mounts: InstanceMounts) -> str:
        return "/code"

    def opt_path(self, mounts: InstanceMounts) -> str | None:
        return "/opt" if mounts.opt_dir is not None else None

    def tmp_path(self, tmp_dir: Path) -> str:
        return "/tmp"

    def runtime_file(self, name: str) -> str:
        return f"{RUNTIME_DIR}/{name}"

    def relay_socket(self) -> str:
        return f"{RELAY_DIR}/{RELAY_SOCKET}"

    def bwrap_options(self, mounts: InstanceMounts) -> list[str]:
        """bwrap's options for one instance, read from a pipe (``bwrap --args FD``)."""
        args = [
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            mounts.hostname,
        ]
        if not mounts.share_network:
            args.append("--unshare-net")
        args += self._host_view
        args += ["--perms", "1777", "--size", str(mounts.tmp_bytes), "--tmpfs", "/tmp"]
        args += ["--ro-bind", str(mounts.code_dir), "/code"]
        if mounts.opt_dir is not None:
            args += ["--ro-bind", str(mounts.opt_dir), "/opt"]
        args += [*_passable(Path(RUNTIME_DIR)), "--ro-bind", str(runtime_files_dir()), RUNTIME_DIR]
        if mounts.relay_dir is not None:
            args += [*_passable(Path(RELAY_DIR)), "--bind", str(mounts.relay_dir), RELAY_DIR]
        args += ["--chdir", "/code"]
        return args

    def _host_options(self) -> list[str]:
        """The options every instance shares: its user, and the host files it sees
        (/usr, the interpreter, /etc's allow-list, /proc, /dev)."""
        args: list[str] = []
        if not self.as_root:
            args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID)]
            args += ["--disable-userns"]
        args += ["--ro-bind", "/usr", "/usr"]
        for name in _TOP_LEVEL_LINKS:
            host = Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), f"/{name}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{name}"]
        if not _under(self.prefix, Path("/usr")):
            args += _passable(self.prefix)
            args += ["--ro-bind", str(self.prefix), str(self.prefix)]
        if not _under(self.interpreter, self.prefix) and not _under(self.interpreter, Path("/usr")):
            args += ["--ro-bind", str(self.interpreter), str(self.interpreter)]
        for masked in self.masked:
            if _under(Path(masked), Path("/usr")) or _under(Path(masked), self.prefix):
                args += ["--tmpfs", masked]
        args += ["--perms", "0755", "--dir", "/etc"]
        for name in _ETC_ALLOWED:
            if os.path.lexists(f"/etc/{name}"):
                args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        args += ["--ro-bind", str(self._etc / "passwd"), "/etc/passwd"]
        args += ["--ro-bind", str(self._etc / "group"), "/etc/group"]
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "1777", "--size", str(64 << 20), "--tmpfs", "/dev/shm"]
        return args

    def command(self, argv: list[str], args_fd: int) -> list[str]:
        """The host command line: only sandbox-side paths appear on it (see /proc/1/cmdline)."""
        drop: list[str] = []
        if self.as_root:
            assert self.setpriv is not None
            drop = [
                self.setpriv,
                f"--reuid={SANDBOX_UID}",
                f"--regid={SANDBOX_GID}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]
        return [self.bwrap, "--args", str(args_fd), "--", *drop, *argv]

    def prepare_relay_dir(self, path: Path) -> None:
        if self.as_root:
            os.chown(path, SANDBOX_UID, SANDBOX_GID)
        os.chmod(path, 0o700)


class NoSandbox:
    """``--unsafe-no-sandbox``: instances are plain host processes (the old behaviour)."""

    enabled = False

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.interpreter = base_interpreter()

    def describe(self) -> dict[str, str]:
        return {"sandbox": f"DISABLED (--unsafe-no-sandbox): {self.reason}"}

    def code_path(self, mounts: InstanceMounts) -> str:
        return str(mounts.code_dir)

    def opt_path(self, mounts: InstanceMounts) -> str | None:
        return str(mounts.opt_dir) if mounts.opt_dir is not None else None

    def tmp_path(self, tmp_dir: Path) -> str:
        return str(tmp_dir)

    def runtime_file(self, name: str) -> str:
        return str(runtime_files_dir() / name)


def args_pipe(args: list[str]) -> int:
    """A pipe holding ``args`` for ``bwrap --args FD``, NUL-terminated: its read end,
    for the caller to pass to bwrap and close."""
    data = b"".join(arg.encode() + b"\0" for arg in args)
    if len(data) > _MAX_ARGS_BYTES:
        raise OSError("the instance's command line is too long")
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, data)
    finally:
        os.close(write_fd)
    return read_fd


def _passable(path: Path) -> list[str]:
    """Create ``path``'s parents 0755: bwrap would otherwise make them 0700 (root only)."""
    args: list[str] = []
    for parent in reversed(path.parents):
        if parent != Path("/"):
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def build_sandbox(state_dir: Path, unsafe: bool) -> tuple[Sandbox | NoSandbox | None, str | None]:
    """(sandbox, None), or (None, why code is refused), or an explicit unsafe NoSandbox."""
    if unsafe:
        log.warning(
            "UNSAFE: the FC emulator runs function code WITHOUT a sandbox "
            "(--unsafe-no-sandbox): functions can read this machine's files, environment "
            "and fcplane's secrets. Use it only for code you trust."
        )
        return NoSandbox("started with --unsafe-no-sandbox"), None
    try:
        return Sandbox.create(state_dir), None
    except SandboxUnavailable as exc:
        log.error("FC emulator refuses to run function code: %s", exc)
        return None, str(exc)

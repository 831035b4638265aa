"""Which FC runtimes can be built for, and what each targets.

Python: the runtime's own interpreter version and FC's platform, so pip picks
the wheels FC can import (``manylinux2014_x86_64`` runs on every FC Python
runtime). The emulator's list of runnable runtimes is its own
(``service.emulator.validation.STANDARD_RUNTIMES``); builds cover exactly those
Python runtimes, plus Node.js when node and npm are installed here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache

from service.emulator.validation import OTHER_RUNTIMES, STANDARD_RUNTIMES

from .contract import BuildFailed

PYTHON_PLATFORM = "manylinux2014_x86_64"
PYTHON_IMPLEMENTATION = "cp"


@dataclass(frozen=True)
class PythonTarget:
    runtime: str
    python_version: str  # "3.10"
    platform: str = PYTHON_PLATFORM
    implementation: str = PYTHON_IMPLEMENTATION

    @property
    def local_version(self) -> str:
        """The interpreter that builds sdists in the sandbox (and runs the emulator)."""
        return f"{sys.version_info[0]}.{sys.version_info[1]}"

    def describe(self) -> dict[str, str]:
        return {
            "language": "python",
            "python_version": self.python_version,
            "platform": self.platform,
            "implementation": self.implementation,
        }


@dataclass(frozen=True)
class NodeTarget:
    runtime: str
    node_major: int
    node: str  # host paths of the tools
    npm: str
    local_version: str  # "20.20.2"

    def describe(self) -> dict[str, str]:
        return {"language": "nodejs", "node_major": str(self.node_major)}


Target = PythonTarget | NodeTarget


def buildable_runtimes() -> list[str]:
    """Runtimes a build may be asked for (Node.js ones fail clearly without node here)."""
    python = sorted(r for r in STANDARD_RUNTIMES if r.startswith("python3."))
    return python + sorted(r for r in OTHER_RUNTIMES if r.startswith("nodejs"))


def target_for(runtime: str) -> Target:
    """The build target of an FC runtime, or BuildFailed(unsupported_runtime) saying why."""
    if runtime in STANDARD_RUNTIMES and runtime.startswith("python3."):
        return PythonTarget(runtime, runtime.removeprefix("python"))
    if runtime.startswith("nodejs") and runtime in OTHER_RUNTIMES:
        tools = _node_tools()
        if tools is None:
            raise BuildFailed(
                f"runtime {runtime} cannot be built on this server: node and npm are not "
                "installed (install Node.js to build Node.js functions)",
                code="unsupported_runtime",
            )
        node, npm, version = tools
        return NodeTarget(runtime, int(runtime.removeprefix("nodejs")), node, npm, version)
    raise BuildFailed(
        f"runtime {runtime!r} has no build; builds exist for {', '.join(buildable_runtimes())}",
        code="unsupported_runtime",
    )


def _node_tools() -> tuple[str, str, str] | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    version = _node_version(node)
    return (node, npm, version) if version else None


@cache
def _node_version(node: str) -> str | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.decode().strip().lstrip("v")

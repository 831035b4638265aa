"""What a build takes and gives back: the request, its limits, the result, the one failure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Output = Literal["code", "layer"]
Progress = Callable[[str], None]

# BuildFailed.code values: stable words a job result or an API error can carry.
FailureCode = Literal[
    "invalid_source",  # not a zip, unsafe paths, too large, no requirements for a layer
    "invalid_requirements",  # a requirements.txt / package-lock.json line fcplane refuses
    "unsupported_runtime",  # no build for this runtime (or no node/npm on this machine)
    "resolution_failed",  # pip/npm could not find or resolve a dependency
    "install_failed",  # the sandboxed install or source build failed
    "timeout",
    "out_of_memory",
    "output_too_large",
    "sandbox_unavailable",  # bubblewrap missing or refused: builds never run unsandboxed
]
_LOG_TAIL = 8000


@dataclass(frozen=True)
class BuildLimits:
    """Bounds of one build: wall time (all steps), sandbox memory, installed and zipped bytes."""

    timeout_s: float = 300.0
    memory_mb: int = 2048
    max_output_bytes: int = 500 * 1024 * 1024


@dataclass(frozen=True)
class BuildRequest:
    """A source package (zip bytes) to build for an FC runtime.

    ``output="code"``: the source plus its dependencies, as a code package.
    ``output="layer"``: only the dependencies, in FC's layer layout (``python/``,
    ``nodejs/node_modules``); the rest of the source is ignored.
    """

    source: bytes
    runtime: str
    output: Output = "code"
    no_cache: bool = False


@dataclass(frozen=True)
class BuildResult:
    package: bytes
    sha256: str
    manifest: dict[str, Any]
    cached: bool  # served from the build cache: neither pip nor npm ran


class BuildFailed(Exception):
    """The build did not produce a package. ``reason`` is one line for people, ``code`` a
    stable word for machines, ``log`` the tail of pip's / npm's output."""

    def __init__(self, reason: str, log: str = "", code: FailureCode = "install_failed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code: FailureCode = code
        self.log = log if len(log) <= _LOG_TAIL else "...\n" + log[-_LOG_TAIL:]

    def __str__(self) -> str:
        return f"{self.reason} [{self.code}]"

"""What the language pipelines share: the context of one build, and what they return."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .cache import BuildCache
from .contract import BuildLimits, Progress
from .process import Deadline


@dataclass(frozen=True)
class StepContext:
    work: Path  # this build's private directory
    state_dir: Path  # the sandbox's identity files, shared by builds
    cache: BuildCache
    deadline: Deadline
    limits: BuildLimits
    say: Progress
    no_cache: bool


@dataclass(frozen=True)
class Deps:
    """Installed dependencies: a tar of the tree (``python -t`` dir, or node_modules)."""

    tree: Path
    meta: dict[str, Any]  # packages, size, warnings, tools
    key: str  # the resolution's cache key
    reused: bool  # taken from the cache: nothing was installed


class Dependencies(Protocol):
    """One language's dependencies of a source package (python.py, node.py)."""

    layer_prefix: str  # where the tree goes in a layer: "python/", "nodejs/node_modules/"
    code_prefix: str  # and in a code package: "", "node_modules/"
    warnings: list[str]  # about the input (ignored options, ...)

    @property
    def empty(self) -> bool: ...

    def describe_requirements(self) -> list[str]: ...

    def inputs_digest(self) -> str: ...

    def replaced_in_code(self) -> str | None:
        """A directory of the source the built tree replaces in a code package."""
        ...

    async def dependencies(self, ctx: StepContext) -> Deps: ...

"""Builds in a project deploy: ``fc3 build`` as a server action, and the plan's warning
for a package that lists dependencies it does not carry.

fc3 projects build before deploying with ``pre-deploy: - component: fc3 build``
(``s build`` installs requirements.txt / package.json into the code directory).
fcplane runs that action itself: the resource's uploaded code package goes
through the build core (service/build: pip/npm in a sandbox) and the built
package — stored like any upload — is what the resource deploys.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.build import BuildFailed, BuildLimits, BuildRequest, build
from service.build.kind import package_limits
from service.functions.codezip import ZipLimits
from service.functions.repository import FunctionRepository
from service.kit.db import Database
from service.kit.errors import DomainError
from service.kit.settings import Settings
from service.packages.service import PackageService
from service.projects.spec import Resource

# fc3 build flags fcplane honours by building in its own sandbox anyway.
ACCEPTED_FLAGS = frozenset({"use-docker"})
# Kept in the record: pip's / npm's last words are what a person needs to fix it.
LOG_TAIL = 2000


@dataclass(frozen=True)
class BuildSetup:
    """Where builds keep their cache and scratch directories, and their limits."""

    cache_dir: Path
    work_dir: Path
    limits: BuildLimits
    packages: ZipLimits  # what a built package must pass to be stored


def build_setup(settings: Settings) -> BuildSetup:
    """The one place the project builds take their directories and limits from: the
    build job's settings (FCPLANE_BUILD_*), so a project build and a build job share a
    cache and the same bounds."""
    return BuildSetup(
        cache_dir=settings.resolved_build_cache_dir,
        work_dir=settings.build_work_dir,
        limits=BuildLimits(
            timeout_s=settings.build_timeout_seconds,
            memory_mb=settings.build_memory_mb,
            max_output_bytes=settings.build_max_output_bytes,
        ),
        packages=package_limits(settings),
    )


class BuildActionFailed(DomainError):
    code, title = "build_failed", "The build failed"


def unsupported_flags(given: dict[str, str]) -> list[str]:
    """fc3 build flags fcplane cannot honour: a Dockerfile, custom commands and
    environments, publishing a layer."""
    return sorted(f"--{name}" for name in given if name not in ACCEPTED_FLAGS)


class ProjectBuilder:
    """Builds a resource's code package and stores the result as a code package."""

    def __init__(self, db: Database, setup: BuildSetup) -> None:
        self.db = db
        self.setup = setup

    async def build_resource(
        self,
        resource: Resource,
        source_sha256: str | None,
        given: dict[str, str],
        author: str | None,
    ) -> dict[str, Any]:
        """``fc3 build`` (flags ``given``) of a resource whose code package is
        ``source_sha256``."""
        unsupported = unsupported_flags(given)
        if unsupported:
            raise BuildActionFailed(
                f"fc3 build {' '.join(unsupported)}: not supported by fcplane, which builds "
                "requirements.txt / package.json dependencies in its own sandbox (no "
                "Dockerfile, custom commands or layer publishing)"
            )
        runtime = resource.props.get("runtime")
        if source_sha256 is None:
            raise BuildActionFailed("fc3 build: the resource has no `code` directory to build")
        if not isinstance(runtime, str):
            raise BuildActionFailed("fc3 build: the resource's `runtime` must be known before it")
        return await self.build(source_sha256, runtime, author)

    async def build(self, source_sha256: str, runtime: str, author: str | None) -> dict[str, Any]:
        """The record of a successful build (``sha256``: the stored package to deploy);
        BuildActionFailed with the build's reason, code and log tail otherwise."""
        async with self.db.read() as session:
            source = await FunctionRepository(session).package_data(source_sha256)
        if source is None:
            raise BuildActionFailed(f"fc3 build: no code package {source_sha256}")
        try:
            result = await build(
                BuildRequest(source=source, runtime=runtime, output="code"),
                cache_dir=self.setup.cache_dir,
                work_dir=self.setup.work_dir,
                limits=self.setup.limits,
            )
        except BuildFailed as failed:
            raise BuildActionFailed(
                f"fc3 build: {failed.reason}",
                build_code=failed.code,
                log=failed.log[-LOG_TAIL:],
            ) from None
        await PackageService(self.db, self.setup.packages).store(
            result.sha256, result.package, author
        )
        manifest = result.manifest
        return {
            "source_sha256": source_sha256,
            "sha256": result.sha256,
            "cached": result.cached,
            "runtime": runtime,
            "packages": [
                {"name": p.get("name"), "version": p.get("version")}
                for p in manifest.get("packages", [])
            ],
            "warnings": list(manifest.get("warnings", [])),
            "size": len(result.package),
        }


# What a code package's names say about its dependencies, per sha256: packages never
# change, so a plan reads each one's central directory once per process.
_SEEN: OrderedDict[str, str | None] = OrderedDict()
_SEEN_MAX = 1024
_READ_AT_MOST = 64 * 1024


def inspected(sha256: str) -> bool:
    return sha256 in _SEEN


def remember(sha256: str, found: str | None) -> None:
    """Keep ``inspect_package``'s answer for a package (called on the event loop)."""
    _SEEN[sha256] = found
    if len(_SEEN) > _SEEN_MAX:
        _SEEN.popitem(last=False)


def unbuilt_dependencies(sha256: str) -> str | None:
    """What ``inspect_package`` found for a remembered package."""
    if sha256 not in _SEEN:
        return None
    _SEEN.move_to_end(sha256)
    return _SEEN[sha256]


def inspect_package(data: bytes) -> str | None:
    """The requirements file of a package that lists dependencies but carries none
    installed (no ``*.dist-info`` / ``node_modules`` at its root); None otherwise.
    CPU work on a large zip's central directory: callers run it off the event loop."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = {i.filename: i for i in archive.infolist()}
        tops = {name.split("/", 1)[0] for name in infos}
        if _lists(archive, infos.get("requirements.txt"), _requirement_lines) and not any(
            t.endswith((".dist-info", ".egg-info")) for t in tops
        ):
            return "requirements.txt"
        if _lists(archive, infos.get("package.json"), _package_dependencies) and (
            "node_modules" not in tops
        ):
            return "package.json"
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        pass  # not a zip this check can read: the deploy says so, not the warning
    return None


def _lists(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, reads: Callable[[str], bool]
) -> bool:
    """Whether a small requirements file names anything (a large one surely does)."""
    if info is None or info.file_size == 0:
        return False
    if info.file_size > _READ_AT_MOST:
        return True
    return reads(archive.read(info).decode("utf-8", "replace"))


def _requirement_lines(text: str) -> bool:
    return any(line.split("#", 1)[0].strip() for line in text.splitlines())


def _package_dependencies(text: str) -> bool:
    try:
        manifest = json.loads(text)
    except ValueError:
        return True  # npm will refuse it; a build says so
    return isinstance(manifest, dict) and bool(manifest.get("dependencies"))


def unbuilt_warning(requirements: str) -> str:
    return (
        f"its code package has {requirements} but no installed dependencies; "
        "add `pre-deploy: - component: fc3 build` to the resource (the server then builds "
        "it before it deploys), or install them into the code directory"
    )

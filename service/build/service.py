"""build(): a source package and a runtime in, a code package or layer with its
dependencies out. See the package docstring for what runs where."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .archive import Entry, Source, Tree, write_zip
from .cache import BuildCache, key_of
from .contract import BuildFailed, BuildLimits, BuildRequest, BuildResult, Progress
from .node import NodeDependencies
from .process import Deadline
from .python import PythonDependencies
from .runtimes import PythonTarget, Target, target_for
from .steps import Dependencies, Deps, StepContext

BUILDER_VERSION = "1"  # part of every cache key: bump when the output of a build changes
log = logging.getLogger(__name__)


def _quiet(_message: str) -> None:
    pass


async def build(
    request: BuildRequest,
    *,
    cache_dir: Path,
    work_dir: Path,
    limits: BuildLimits = BuildLimits(),  # noqa: B008 - frozen, so one shared default is safe
    progress: Progress | None = None,
) -> BuildResult:
    """Build ``request``; BuildFailed (with ``code``, ``reason``, ``log``) if it cannot.

    ``cache_dir`` keeps results and installed dependency trees across builds;
    ``work_dir`` holds each build's scratch directory (removed afterwards) and
    the sandbox's identity files. Both must not be readable by function code.
    """
    say = progress or _quiet
    started = time.monotonic()
    deadline = Deadline(limits.timeout_s)
    target = target_for(request.runtime)
    source = await asyncio.to_thread(Source, request.source, limits.max_output_bytes)
    deps = await asyncio.to_thread(_dependencies_of, target, source)
    if request.output == "layer" and deps.empty:
        raise BuildFailed(
            "a layer build needs dependencies: "
            + ("requirements.txt" if isinstance(target, PythonTarget) else "package.json")
            + " lists none",
            code="invalid_source",
        )
    inputs = source.digest() if request.output == "code" else deps.inputs_digest()
    key = key_of(
        {
            "builder": BUILDER_VERSION,
            "runtime": request.runtime,
            "output": request.output,
            "target": target.describe(),
            "inputs": inputs,
        }
    )
    cache = BuildCache(cache_dir)
    if not request.no_cache:
        hit = await asyncio.to_thread(cache.result, key)
        if hit is not None:
            say(f"cached: the same build ran before ({key[:12]})")
            return BuildResult(hit.package, hit.manifest["sha256"], hit.manifest, cached=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=work_dir))
    try:
        ctx = StepContext(
            work=work,
            state_dir=work_dir / "sandbox",
            cache=cache,
            deadline=deadline,
            limits=limits,
            say=say,
            no_cache=request.no_cache,
        )
        installed = None if deps.empty else await deps.dependencies(ctx)
        deadline.check()
        say("packaging")
        package, warnings, files = await asyncio.to_thread(
            _package, request, source, deps, installed, limits.max_output_bytes
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    digest = hashlib.sha256(package).hexdigest()
    meta = installed.meta if installed is not None else {}
    manifest: dict[str, Any] = {
        "runtime": request.runtime,
        "output": request.output,
        "target": target.describe(),
        "layout": deps.layer_prefix if request.output == "layer" else deps.code_prefix or "/",
        "requirements": deps.describe_requirements(),
        "packages": meta.get("packages", []),
        "size": meta.get("size", 0),
        "files": files,
        "package_size": len(package),
        "sha256": digest,
        "dependencies_reused": bool(installed and installed.reused),
        "warnings": [*deps.warnings, *meta.get("warnings", []), *warnings],
        "tools": {**meta.get("tools", {}), "sandbox": "bubblewrap"},
        "log": meta.get("log", ""),  # the tail of the install's output
        "cache_key": key,
        "dependencies_key": installed.key if installed else None,
        "duration_s": round(time.monotonic() - started, 3),
        "builder": BUILDER_VERSION,
    }
    await asyncio.to_thread(cache.store_result, key, package, manifest)
    log.info(
        "build %s %s: %d bytes, sha256 %s, %d package(s), dependencies %s, %.1f s",
        request.runtime,
        request.output,
        len(package),
        digest[:12],
        len(manifest["packages"]),
        "reused" if manifest["dependencies_reused"] else "installed",
        manifest["duration_s"],
    )
    say(f"built {len(package)} bytes, sha256 {digest[:12]}")
    return BuildResult(package, digest, manifest, cached=False)


def _dependencies_of(target: Target, source: Source) -> Dependencies:
    if isinstance(target, PythonTarget):
        return PythonDependencies(target, source)
    return NodeDependencies(target, source)


def _package(
    request: BuildRequest,
    source: Source,
    deps: Dependencies,
    installed: Deps | None,
    max_bytes: int,
) -> tuple[bytes, list[str], int]:
    """The zip: the source first (it wins a path conflict), then the installed tree."""
    tree = Tree(installed.tree) if installed is not None else None
    try:
        entries: list[Entry] = []
        if request.output == "code":
            replaced = deps.replaced_in_code() if tree is not None else None
            entries += [
                e
                for e in source.entries()
                if replaced is None or not e.path.startswith(replaced + "/")
            ]
        if tree is not None:
            size = tree.size
            if size > max_bytes:
                raise BuildFailed(
                    f"the installed dependencies are {size} bytes, over the limit of {max_bytes}",
                    code="output_too_large",
                )
            prefix = deps.layer_prefix if request.output == "layer" else deps.code_prefix
            entries += tree.entries(prefix)
        package, warnings = write_zip(entries, max_bytes)
        return package, warnings, len({e.path for e in entries})
    finally:
        if tree is not None:
            tree.close()

"""The ``build`` job kind: a stored source package built into a code package or an FC layer.

The build itself (``service.build.build``) runs in this process's event loop,
its sandboxed steps as child processes; cancelling the task kills them and
removes the scratch directory. The result is stored like an upload (a code
package by sha256) and, for a layer, published once per content: the layer
version's description carries the package's sha256, so an identical build
finds and reuses the version it published before.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pydantic import BaseModel

from service.build.contract import BuildFailed, BuildLimits, BuildRequest
from service.build.contract import BuildResult as Built
from service.build.runtimes import buildable_runtimes
from service.build.schemas import BuildManifest, BuildParams, BuildResult, PublishedLayer
from service.build.service import build
from service.functions.codezip import ZipLimits
from service.functions.repository import FunctionRepository
from service.jobs.contract import JobCancelled, JobContext, JobOutcome
from service.kit.db import Database
from service.kit.errors import DomainError, InvalidInput
from service.kit.settings import Settings
from service.packages.service import PackageService

LAYER_DESCRIPTION = "fcplane build sha256:{sha256}"
# Progress notes move the bar up to here; the last tenth is storing and publishing.
_BUILD_SHARE = 0.9
_WATCH_SECONDS = 0.5


class BuildJobFailed(DomainError):
    """A build that produced nothing: the job fails with the build's code, reason and log."""

    status, code, title = 422, "build_failed", "Build failed"

    def __init__(self, code: str, reason: str, log: str = "") -> None:
        super().__init__(reason + (f"\n{log}" if log else ""), reason=reason, log=log)
        self.code = code

    @classmethod
    def of(cls, failure: BuildFailed) -> BuildJobFailed:
        return cls(failure.code, failure.reason, failure.log)


def limits_for(params: BuildParams, settings: Settings) -> BuildLimits:
    return BuildLimits(
        timeout_s=float(params.timeout_s or settings.build_timeout_seconds),
        memory_mb=params.memory_mb or settings.build_memory_mb,
        max_output_bytes=settings.build_max_output_bytes,
    )


def package_limits(settings: Settings) -> ZipLimits:
    """A built package's checks: an upload's, with room for big dependency sets."""
    return ZipLimits(
        max_compressed_bytes=max(settings.code_package_max_bytes, settings.build_max_output_bytes),
        max_uncompressed_bytes=settings.build_max_output_bytes,
        max_entries=settings.build_max_entries,
    )


async def _source(db: Database, sha256: str) -> bytes:
    async with db.read() as session:
        data = await FunctionRepository(session).package_data(sha256)
    if data is None:
        raise BuildJobFailed(
            "invalid_source",
            f"no code package {sha256}: upload the source first (PUT /v1/code-packages/{sha256})",
        )
    return data


async def _run_build(ctx: JobContext, request: BuildRequest, limits: BuildLimits) -> Built:
    """build(), its progress notes forwarded to the job; a cancel request stops it."""
    loop = asyncio.get_running_loop()
    notes: asyncio.Queue[str] = asyncio.Queue()
    settings = ctx.settings

    def say(message: str) -> None:  # called from the loop and from build threads
        loop.call_soon_threadsafe(notes.put_nowait, message)

    task = asyncio.create_task(
        build(
            request,
            cache_dir=settings.resolved_build_cache_dir,
            work_dir=settings.build_work_dir,
            limits=limits,
            progress=say,
        )
    )
    told = 0
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=_WATCH_SECONDS)
            while not notes.empty():
                told += 1
                await ctx.progress(min(_BUILD_SHARE, 0.05 * told), notes.get_nowait())
            if not task.done() and await ctx.cancel_requested():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise JobCancelled(f"build job {ctx.job_id} cancelled")
    finally:
        if not task.done():  # interrupted from outside: stop the build with us
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, BuildFailed):
                await task
    try:
        return task.result()
    except BuildFailed as failure:
        raise BuildJobFailed.of(failure) from None


async def publish_layer(ctx: JobContext, name: str, built: Built, runtime: str) -> PublishedLayer:
    """The layer version holding ``built``: found by its sha256, else published now."""
    description = LAYER_DESCRIPTION.format(sha256=built.sha256)
    for version in await ctx.gateway.list_layer_versions(ctx.access, name):
        if version.get("description") == description:
            return PublishedLayer(
                layer_name=name,
                version=int(version["version"]),
                arn=str(version["layerVersionArn"]),
                reused=True,
            )
    created = (
        await ctx.gateway.create_layer_version(
            ctx.access,
            name,
            built.package,
            description=description,
            compatible_runtime=[runtime],
        )
    ).body
    return PublishedLayer(
        layer_name=name,
        version=int(created["version"]),
        arn=str(created["layerVersionArn"]),
        reused=False,
    )


class BuildKind:
    name = "build"
    needs_function = False
    params_model: type[BaseModel] = BuildParams
    result_model: type[BaseModel] = BuildResult

    async def validate(self, params: BaseModel, facts: dict[str, Any], settings: Settings) -> None:
        assert isinstance(params, BuildParams)
        runtimes = buildable_runtimes()
        if params.runtime not in runtimes:
            raise InvalidInput(
                f"params.runtime: no build for {params.runtime!r}; builds exist for "
                + ", ".join(runtimes),
                field="params.runtime",
            )
        if params.timeout_s is not None and params.timeout_s > settings.build_timeout_seconds:
            raise InvalidInput(
                f"params.timeout_s: at most {settings.build_timeout_seconds:g} seconds",
                field="params.timeout_s",
            )
        if params.memory_mb is not None and params.memory_mb > settings.build_memory_mb:
            raise InvalidInput(
                f"params.memory_mb: at most {settings.build_memory_mb} MB",
                field="params.memory_mb",
            )

    async def run(self, ctx: JobContext, params: BaseModel) -> JobOutcome:
        assert isinstance(params, BuildParams)
        await self.validate(params, ctx.facts, ctx.settings)
        if ctx.db is None:
            raise RuntimeError("a build job needs the database")
        await ctx.progress(0.0, "loading the source package")
        source = await _source(ctx.db, params.source_sha256)
        request = BuildRequest(source, params.runtime, params.output, params.no_cache)
        built = await _run_build(ctx, request, limits_for(params, ctx.settings))
        await ctx.check_cancelled()
        await ctx.progress(_BUILD_SHARE, f"storing code package {built.sha256[:12]}")
        packages = PackageService(ctx.db, package_limits(ctx.settings))
        stored, _ = await packages.store(built.sha256, built.package, f"build job {ctx.job_id}")
        layer = None
        if params.output == "layer":
            await ctx.progress(0.95, f"publishing layer {params.layer()}")
            layer = await publish_layer(ctx, params.layer(), built, params.runtime)
        result = BuildResult(
            sha256=built.sha256,
            size=stored.size,
            cached=built.cached,
            manifest=BuildManifest.of(built.manifest),
            layer=layer,
        )
        note = f"built {built.sha256[:12]}" + (" (cached)" if built.cached else "")
        if layer is not None:
            note += f"; layer {layer.arn}" + (" (reused)" if layer.reused else "")
        await ctx.progress(1.0, note)
        return JobOutcome(result=result.model_dump(mode="json"))


BUILD = BuildKind()

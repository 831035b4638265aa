"""`fcplane build`: a code directory's dependencies installed by the server's build job.

The directory is zipped as `deploy` zips it (same files, same bytes), uploaded
when the server lacks it, and built by a `build` job (pip / npm in the server's
sandbox); the result is a stored code package (or a published layer) whose
sha256 is printed for `fcplane deploy` / an s.yaml to use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.client.connection import Api, Target
from service.client.errors import FAILED, OK, ClientError
from service.client.jobs import follow
from service.client.output import Output
from service.client.packaging import package, upload_missing

# What a directory's requirements file says it is, when --runtime is not given.
DEFAULT_RUNTIMES = {"requirements.txt": "python3.10", "package.json": "nodejs20"}


def runtime_of(directory: Path, given: str | None) -> str:
    if given:
        return given
    for requirements, runtime in DEFAULT_RUNTIMES.items():
        if (directory / requirements).is_file():
            return runtime
    raise ClientError(
        f"{directory} has no requirements.txt or package.json: nothing to build "
        "(give --runtime to build it anyway)"
    )


def run(
    out: Output,
    where: Target,
    directory: Path,
    runtime: str | None,
    layer: bool,
    no_cache: bool,
    account: str | None,
) -> int:
    if not directory.is_dir():
        raise ClientError(f"{directory} is not a directory")
    runtime = runtime_of(directory, runtime)
    source = package(str(directory), directory)
    params: dict[str, Any] = {
        "source_sha256": source.sha256,
        "runtime": runtime,
        "output": "layer" if layer else "code",
        "no_cache": no_cache,
    }
    with Api(where) as api:
        upload_missing(api, [source], out)
        body: dict[str, Any] = {"kind": "build", "params": params}
        if account:
            body["account"] = account
        job = api.post("/v1/jobs", body)
        out.note(f"Job {job['id']}: build of {directory} for {runtime}, {job['status']}")
        job = follow(out, api, job)
    return finish(out, job)


def finish(out: Output, job: dict[str, Any]) -> int:
    result = job.get("result") or {}
    out.document(job)
    if job["status"] != "succeeded" or not result:
        # The job's error: the build's reason, then the tail of pip's / npm's output.
        reason, _, log = str(job.get("error") or "no result").partition("\n")
        out.line(f"Build {job['status']}: {reason}", "red")
        if log.strip():
            out.note(log.rstrip())
        return FAILED
    manifest = result.get("manifest") or {}
    packages = manifest.get("packages") or []
    listed = ", ".join(f"{p.get('name')}=={p.get('version')}" for p in packages) or "none"
    how = "cached" if result.get("cached") else f"{manifest.get('duration_s', 0):.1f} s"
    out.note(f"Built {result.get('size', 0)} bytes ({how}); packages: {listed}")
    for warning in manifest.get("warnings") or []:
        out.warn(str(warning))
    layer = result.get("layer")
    if layer:
        out.note(f"Layer {layer['arn']}" + (" (reused)" if layer.get("reused") else ""))
    out.line(str(result["sha256"]))
    return OK

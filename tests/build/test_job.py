"""The ``build`` job kind through the API: real pip, the real sandbox, the emulator, and a
real arq worker."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.kit.settings import Settings
from service.worker import create_worker
from tests.build.conftest import INDEX_PY, SIX, make_zip
from tests.conftest import REDIS_URL, unavailable
from tests.deploys.conftest import BASE_CONFIG, deploy, emulator, fc, fc_account, upload
from tests.fc import register_account
from tests.jobs.conftest import job_events, wait_for

__all__ = ["emulator", "fc", "fc_account"]

pytestmark = pytest.mark.usefixtures("bwrap")
SOURCE = {"index.py": INDEX_PY, "requirements.txt": f"{SIX}\n"}
BUILD_TIMEOUT = 60.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"job_heartbeat_seconds": 0.2, "job_max_concurrent": 2, "build_timeout_seconds": 60}
    )


async def build_job(client: httpx.AsyncClient, files: dict[str, str], **params: Any) -> str:
    sha = await upload(client, make_zip(dict(files)))
    response = await client.post(
        "/v1/jobs",
        json={"kind": "build", "params": {"source_sha256": sha, "runtime": "python3.10", **params}},
    )
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert "function" not in job
    assert (job["kind"], job["account"], job["status"]) == ("build", "local", "queued")
    return str(job["id"])


async def finished(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    return await wait_for(client, job_id, "succeeded", "failed", "cancelled", timeout=BUILD_TIMEOUT)


async def deploy_function(client: httpx.AsyncClient, name: str, sha: str, **config: Any) -> None:
    registered = await client.post("/v1/accounts/local/functions", json={"name": name})
    assert registered.status_code == 201, registered.text
    response = await deploy(client, name, {**BASE_CONFIG, **config}, None, code_sha256=sha)
    assert response.status_code == 201, response.text


def invoke(fc: Client, name: str) -> tuple[str | None, bytes]:
    response = fc.invoke_function(name, fc_models.InvokeFunctionRequest(body=b"{}"))
    body: bytes = response.body.read()
    return response.headers.get("x-fc-error-type"), body


async def test_a_built_package_deploys_and_imports_its_dependency_and_is_cached(
    client: httpx.AsyncClient, fc_account: str, fc: Client, engine: AsyncEngine
) -> None:
    # The source alone does not run: `six` is not on FC (nor in the emulator's sandbox).
    source_sha = await upload(client, make_zip(dict(SOURCE)))
    await deploy_function(client, "unbuilt", source_sha)
    error, body = invoke(fc, "unbuilt")
    assert error is not None
    assert b"No module named 'six'" in body

    job = await finished(client, await build_job(client, SOURCE))
    assert job["status"] == "succeeded", job
    # A build stores no HTML report: its job.finished carries no link to one.
    [event] = [e for e in await job_events(engine) if e.payload["job_id"] == job["id"]]
    assert "report_url" not in event.payload
    result = job["result"]
    assert result["cached"] is False
    assert result["layer"] is None
    [six] = result["manifest"]["packages"]
    assert (six["name"], six["version"], six["source"]) == ("six", "1.17.0", "index")
    assert six["size"] > 0
    assert result["manifest"]["runtime"] == "python3.10"
    assert result["manifest"]["duration_s"] > 0
    assert job["progress"] == 1.0
    assert job["progress_note"].startswith("built ")
    stored = await client.get(f"/v1/code-packages/{result['sha256']}")
    assert stored.status_code == 200
    assert stored.json()["size"] == result["size"]

    await deploy_function(client, "built", result["sha256"])
    assert invoke(fc, "built") == (None, b"1.17.0")

    again = await finished(client, await build_job(client, SOURCE))
    assert again["status"] == "succeeded", again
    assert again["result"]["cached"] is True
    assert again["result"]["sha256"] == result["sha256"]
    rebuilt = await finished(client, await build_job(client, SOURCE, no_cache=True))
    assert rebuilt["result"]["cached"] is False
    assert rebuilt["result"]["sha256"] == result["sha256"]  # reproducible

    listed = (await client.get("/v1/jobs", params={"kind": "build"})).json()["items"]
    assert [j["id"] for j in listed] == [rebuilt["id"], again["id"], job["id"]]
    assert all("function" not in j for j in listed)


async def test_a_layer_is_published_once_and_shared_by_functions(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    requirements = {"requirements.txt": f"{SIX}\n"}
    job = await finished(
        client, await build_job(client, requirements, output="layer", layer_name="six-deps")
    )
    assert job["status"] == "succeeded", job
    layer = job["result"]["layer"]
    assert layer["layer_name"] == "six-deps"
    assert layer["reused"] is False
    assert layer["arn"].endswith(f":layers/six-deps/versions/{layer['version']}")

    again = await finished(
        client, await build_job(client, requirements, output="layer", layer_name="six-deps")
    )
    assert again["result"]["cached"] is True
    assert again["result"]["layer"] == {**layer, "reused": True}
    versions = fc.list_layer_versions("six-deps", fc_models.ListLayerVersionsRequest()).body
    assert len(versions.layers) == 1

    code_only = await upload(client, make_zip({"index.py": INDEX_PY}))
    for name in ("first", "second"):
        await deploy_function(client, name, code_only, layers=[layer["arn"]])
        assert invoke(fc, name) == (None, b"1.17.0")


async def test_failed_and_refused_builds(client: httpx.AsyncClient, fc_account: str) -> None:
    failing = {"index.py": INDEX_PY, "requirements.txt": "fcplane-no-such-package==1.0\n"}
    job = await finished(client, await build_job(client, failing))
    assert job["status"] == "failed"
    assert job["error"].startswith("resolution_failed: ")
    assert "fcplane-no-such-package" in job["error"]
    assert job["result"] is None

    missing = await finished(
        client,
        (
            await client.post(
                "/v1/jobs",
                json={
                    "kind": "build",
                    "params": {"source_sha256": "a" * 64, "runtime": "python3.10"},
                },
            )
        ).json()["id"],
    )
    assert missing["status"] == "failed"
    assert missing["error"].startswith("invalid_source: no code package")

    async def refused(body: dict[str, Any]) -> list[str]:
        response = await client.post("/v1/jobs", json={"kind": "build", **body})
        assert response.status_code == 422, response.text
        problem = response.json()
        return sorted(e["field"] for e in problem.get("errors", [])) or [problem["field"]]

    sha = "b" * 64
    assert await refused({"params": {"runtime": "python3.10"}}) == ["params.source_sha256"]
    assert await refused({"params": {"source_sha256": sha, "runtime": "python2.7"}}) == [
        "params.runtime"
    ]
    assert await refused({"params": {"source_sha256": sha, "runtime": "python3.10", "x": 1}}) == [
        "params.x"
    ]
    assert await refused(
        {"params": {"source_sha256": sha, "runtime": "python3.10", "layer_name": "l"}}
    ) == ["params.layer_name"]
    assert await refused(
        {"params": {"source_sha256": sha, "runtime": "python3.10", "timeout_s": 3600}}
    ) == ["params.timeout_s"]
    assert await refused(
        {"function": "hello", "params": {"source_sha256": sha, "runtime": "python3.10"}}
    ) == ["function"]
    # the other kinds still need their function
    stress = await client.post("/v1/jobs", json={"kind": "stress", "params": {"duration_s": 1}})
    assert stress.status_code == 422
    assert [e["field"] for e in stress.json()["errors"]] == ["function"]


async def test_cancel_kills_the_build(client: httpx.AsyncClient, fc_account: str) -> None:
    marker = f"fcplane-build-job-sleeper-{os.getpid()}"
    setup_py = (
        "import subprocess, time\n"
        f"subprocess.Popen(['sh', '-c', 'exec -a {marker} sleep 600'], start_new_session=True)\n"
        "time.sleep(600)\n"
    )
    job_id = await build_job(client, {"requirements.txt": "./slow\n", "slow/setup.py": setup_py})
    deadline = time.monotonic() + BUILD_TIMEOUT
    while "in the sandbox" not in (
        (await client.get(f"/v1/jobs/{job_id}")).json()["progress_note"] or ""
    ):
        assert time.monotonic() < deadline, "the build never reached its sandboxed step"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)
    assert (await client.post(f"/v1/jobs/{job_id}/cancel")).status_code == 202
    started = time.monotonic()
    job = await finished(client, job_id)
    assert job["status"] == "cancelled"
    assert job["error"] == "cancelled"  # stopped by the kind, not interrupted after the grace
    assert time.monotonic() - started < 5
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and _runs(pid, marker)]


def _runs(pid: str, marker: str) -> bool:
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.fixture
async def redis_api(
    settings: Settings, admin_token: str, emulator: EmbeddedEmulator, fc: Client
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """An API that queues jobs in Redis for `fcplane worker` and runs none itself."""
    queue = f"fcplane-test:{os.urandom(8).hex()}"
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    except OSError as exc:
        unavailable("Redis", str(exc))
    redis_settings = settings.model_copy(update={"redis_url": REDIS_URL, "redis_queue_name": queue})
    app = create_app(redis_settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://fcplane.test",
                headers={"Authorization": f"Bearer {admin_token}"},
            ) as http,
        ):
            await register_account(http, emulator)
            yield http, redis_settings
    finally:
        await pool.delete(queue)
        await pool.aclose()


@pytest.mark.redis
async def test_a_worker_runs_a_build(
    redis_api: tuple[httpx.AsyncClient, Settings], fc: Client
) -> None:
    api, redis_settings = redis_api
    job_id = await build_job(api, SOURCE)
    worker = create_worker(redis_settings, burst=True)
    try:
        await worker.main()
    finally:
        await worker.close()
    job = (await api.get(f"/v1/jobs/{job_id}")).json()
    assert job["status"] == "succeeded", job
    await deploy_function(api, "from-worker", job["result"]["sha256"])
    assert invoke(fc, "from-worker") == (None, b"1.17.0")

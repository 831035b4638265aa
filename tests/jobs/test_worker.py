"""Jobs on real arq workers: burst workers in this process, and `fcplane worker`
processes killed with SIGKILL in the middle of a job."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.cloud.gateway import FcGateway
from service.emulator.server import EmbeddedEmulator
from service.jobs.execution import JobDeps
from service.jobs.sweeper import sweep
from service.jobs.tasks import ArqQueue, run_job
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.settings import Settings
from service.webhooks.catalog import EVENTS
from service.webhooks.payloads import EVENT_DATA
from service.webhooks.schemas import EventType
from service.worker import create_worker
from tests.conftest import REDIS_URL, TEST_SECRET_KEY, unavailable
from tests.deploys.conftest import first_deploy
from tests.fc import register_account
from tests.jobs.conftest import job_events, submit, wait_for

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]
# `fcplane worker`, with the tests' job kind registered first.
WORKER = [
    sys.executable,
    "-c",
    "import sys; from tests.jobs.kinds import install; install(); "
    "from service.cli import main; sys.argv[0] = 'fcplane'; main()",
    "worker",
]


@pytest.fixture
def queue_name() -> str:
    # A queue of its own: test runs sharing this Redis cannot take each other's jobs.
    return f"fcplane-test:{uuid.uuid4().hex}"


@pytest.fixture
async def arq_pool(queue_name: str) -> AsyncIterator[ArqRedis]:
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    except OSError as exc:
        unavailable("Redis", str(exc))
    yield pool
    await pool.delete(queue_name)
    await pool.aclose()


@pytest.fixture
def redis_settings(settings: Settings, queue_name: str) -> Settings:
    return settings.model_copy(update={"redis_url": REDIS_URL, "redis_queue_name": queue_name})


@pytest.fixture
async def api(
    redis_settings: Settings,
    admin_token: str,
    arq_pool: ArqRedis,
    emulator: EmbeddedEmulator,
    fc: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """An API with Redis configured: it queues jobs for workers and runs none itself."""
    app = create_app(redis_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://fcplane.test",
            headers={"Authorization": f"Bearer {admin_token}"},
        ) as http,
    ):
        await register_account(http, emulator)
        await first_deploy(http, "hello")
        yield http


async def _burst(settings: Settings) -> None:
    worker = create_worker(settings, burst=True)
    try:
        await worker.main()
    finally:
        await worker.close()


async def test_burst_worker_runs_a_queued_job(
    api: httpx.AsyncClient, redis_settings: Settings, engine: AsyncEngine
) -> None:
    job = await submit(api, invocations=2)
    await asyncio.sleep(0.3)
    assert (await api.get(f"/v1/jobs/{job['id']}")).json()["status"] == "queued"
    await _burst(redis_settings)
    done = (await api.get(f"/v1/jobs/{job['id']}")).json()
    assert done["status"] == "succeeded", done
    assert done["result"]["bodies"] == ["v1", "v1"]
    assert done["attempts"] == 1
    assert (await api.get(f"/v1/jobs/{job['id']}/report")).status_code == 200
    [event] = await job_events(engine)
    assert event.payload["status"] == "succeeded"
    # As documented in OpenAPI; `recommendation` is for eval jobs only, `headline` for
    # stress and eval jobs; a succeeded job that stored a report has a signed `report_url`.
    documented = set(EVENTS[EventType.JOB_FINISHED].data)
    assert set(event.payload) == documented - {"recommendation", "headline"}
    assert "/report?expires=" in event.payload["report_url"]
    EVENT_DATA[EventType.JOB_FINISHED].model_validate(event.payload)


async def test_a_job_delivered_twice_runs_once(
    api: httpx.AsyncClient, redis_settings: Settings, engine: AsyncEngine
) -> None:
    job = await submit(api, invocations=2)
    gateway, db, box = FcGateway(), Database(engine), SecretBox(TEST_SECRET_KEY)

    def ctx(delivery: str) -> Any:  # what arq hands a job: the worker's ctx plus its job id
        return {
            "settings": redis_settings,
            "db": db,
            "secret_box": box,
            "gateway": gateway,
            "job_id": delivery,
        }

    outcomes = await asyncio.gather(
        run_job(ctx("delivery-1"), job["id"]), run_job(ctx("delivery-2"), job["id"])
    )
    assert sorted(outcomes, key=str) == [None, "succeeded"]
    assert await run_job(ctx("delivery-3"), job["id"]) is None  # and after it finished
    done = (await api.get(f"/v1/jobs/{job['id']}")).json()
    assert done["attempts"] == 1
    assert len(await job_events(engine)) == 1


async def test_cancel_reaches_a_job_on_a_worker(
    api: httpx.AsyncClient, redis_settings: Settings
) -> None:
    job = await submit(api, invocations=100, sleep_s=0.2)
    worker = asyncio.create_task(_burst(redis_settings))
    try:
        await wait_for(api, job["id"], "running", progressed=True)
        await api.post(f"/v1/jobs/{job['id']}/cancel")
        cancelled = await wait_for(api, job["id"], "cancelled", timeout=5)
        assert cancelled["error"] == "cancelled"
    finally:
        await asyncio.wait_for(worker, timeout=10)


async def test_sweeper_aborts_a_cancelled_job_that_does_not_stop(
    api: httpx.AsyncClient, redis_settings: Settings, arq_pool: ArqRedis
) -> None:
    # The worker would wait ten minutes for the job to stop by itself; the
    # sweeper (with no grace) has arq abort it instead.
    patient = redis_settings.model_copy(update={"job_cancel_grace_seconds": 600})
    job = await submit(api, invocations=100, sleep_s=0.2, ignore_cancel=True)
    worker = asyncio.create_task(_burst(patient))
    try:
        await wait_for(api, job["id"], "running", progressed=True)
        await api.post(f"/v1/jobs/{job['id']}/cancel")
        await asyncio.sleep(1)
        assert (await api.get(f"/v1/jobs/{job['id']}")).json()["status"] == "running"
        impatient = redis_settings.model_copy(update={"job_cancel_grace_seconds": 0})
        async with AsyncExitStack() as stack:
            db = Database.connect(impatient.resolved_database_url)
            stack.push_async_callback(db.dispose)
            deps = JobDeps(impatient, db, SecretBox(TEST_SECRET_KEY), FcGateway())
            queue = ArqQueue(arq_pool, impatient.redis_queue_name)
            await sweep(deps, queue.enqueue_again, stale_after=60, abort=queue.abort)
        cancelled = await wait_for(api, job["id"], "cancelled", timeout=5)
        assert cancelled["error"] == "cancelled"
    finally:
        await asyncio.wait_for(worker, timeout=10)


class Workers:
    """`fcplane worker` processes sharing the test database and Redis."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.env = {
            **os.environ,
            "FCPLANE_REDIS_URL": REDIS_URL,
            "FCPLANE_REDIS_QUEUE_NAME": settings.redis_queue_name,
            "FCPLANE_DATABASE_URL": settings.resolved_database_url,
            "FCPLANE_DATA_DIR": str(settings.data_dir),
            "FCPLANE_SECRET_KEY": TEST_SECRET_KEY,
            "FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS": "0",
            "FCPLANE_JOB_LEASE_SECONDS": "2",
            "FCPLANE_JOB_HEARTBEAT_SECONDS": "0.3",
            "FCPLANE_JOB_SWEEP_SECONDS": "1",
        }
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, **env: str) -> subprocess.Popen[bytes]:
        with (self.tmp_path / f"worker{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(
                WORKER, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("worker*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(redis_settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(redis_settings, tmp_path)
    yield pool
    pool.stop()


@pytest.mark.parametrize(("max_attempts", "outcome"), [(2, "succeeded"), (1, "failed")])
async def test_a_job_whose_worker_is_killed_is_retried_or_failed(
    api: httpx.AsyncClient,
    workers: Workers,
    engine: AsyncEngine,
    max_attempts: int,
    outcome: str,
) -> None:
    attempts = {"FCPLANE_JOB_MAX_ATTEMPTS": str(max_attempts)}
    job = await submit(api, invocations=40, sleep_s=0.1)
    doomed = workers.start(**attempts)
    try:
        running = await wait_for(api, job["id"], "running", progressed=True, timeout=60)
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    assert running["attempts"] == 1
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    # Nobody renews the lease now; until it expires the job still shows running.
    assert (await api.get(f"/v1/jobs/{job['id']}")).json()["status"] == "running"

    workers.start(**attempts)
    try:
        final = await wait_for(api, job["id"], "succeeded", "failed", timeout=60)
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    assert final["status"] == outcome, (final, workers.logs())
    if outcome == "succeeded":
        assert final["attempts"] == 2
        assert final["error"] is None
        assert final["result"]["invocations"] == 40
    else:
        assert final["attempts"] == 1
        assert final["error"] == (
            "its worker stopped responding (lease expired) on attempt 1 of 1; giving up"
        )
    [event] = await job_events(engine)
    assert event.payload["status"] == outcome


async def test_a_job_interrupted_by_a_worker_shutdown_runs_again_uncounted(
    api: httpx.AsyncClient, workers: Workers
) -> None:
    job = await submit(api, invocations=30, sleep_s=0.1)
    stopping = workers.start()
    try:
        await wait_for(api, job["id"], "running", progressed=True, timeout=60)
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    stopping.send_signal(signal.SIGTERM)
    stopping.wait(timeout=15)
    requeued = (await api.get(f"/v1/jobs/{job['id']}")).json()
    assert (requeued["status"], requeued["attempts"]) == ("queued", 0), workers.logs()

    workers.start()
    try:
        final = await wait_for(api, job["id"], "succeeded", timeout=60)
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    assert final["attempts"] == 1

"""A 10 s stress job on a real arq worker: live progress (GET and server-sent events),
artifacts, a signed report link, the job.finished webhook's headline, warm-up vs steady
state with cold starts, and the request id carried from the API into the job."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.settings import Settings
from service.models import Job
from service.webhooks.tasks import background_dispatcher
from service.worker import create_worker
from tests.conftest import REDIS_URL, TEST_SECRET_KEY, unavailable
from tests.deploys.conftest import BASE_CONFIG, deploy, make_zip, upload
from tests.fc import register_account
from tests.webhooks.receiver import Receiver, eventually

pytestmark = pytest.mark.redis

# Every new instance sleeps at import: its first answer is a cold start of over a second.
SLOW_START_PY = """
import time
time.sleep(1.2)

def handler(event, context):
    return "ok"
"""
BASE = "http://fcplane.test"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def live_settings(settings: Settings) -> AsyncIterator[Settings]:
    queue = f"fcplane-test:{uuid.uuid4().hex}"
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    except OSError as exc:
        unavailable("Redis", str(exc))
    yield settings.model_copy(
        update={
            "redis_url": REDIS_URL,
            "redis_queue_name": queue,
            "public_url": BASE,
            "webhook_allowed_hosts": ["127.0.0.1"],
            "webhook_poll_seconds": 0.05,
        }
    )
    await pool.delete(queue)
    await pool.aclose()


@pytest.fixture
async def api(
    live_settings: Settings, admin_token: str, emulator: EmbeddedEmulator, fc: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(live_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=BASE,
            headers={"Authorization": f"Bearer {admin_token}"},
        ) as http,
    ):
        await register_account(http, emulator)
        sha = await upload(http, make_zip(SLOW_START_PY))
        registered = await http.post("/v1/accounts/local/functions", json={"name": "slow"})
        assert registered.status_code == 201, registered.text
        deployed = await deploy(http, "slow", dict(BASE_CONFIG), None, code_sha256=sha)
        assert deployed.status_code == 201, deployed.text
        yield http


def _sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


async def _poll(api: httpx.AsyncClient, job_id: str) -> list[dict[str, Any]]:
    """Every distinct `live` seen by polling GET /v1/jobs/{id} until the job ends."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = (await api.get(f"/v1/jobs/{job_id}")).json()
        if job["status"] == "running" and job["live"] and job["live"] not in seen:
            seen.append(job["live"])
        if job["status"] not in ("queued", "running"):
            return seen
        await asyncio.sleep(0.3)
    raise AssertionError("the stress job did not finish")


async def test_live_progress_artifacts_links_and_headline(
    api: httpx.AsyncClient,
    live_settings: Settings,
    engine: AsyncEngine,
    receiver: Receiver,
) -> None:
    hook = await api.post("/v1/webhooks", json={"url": receiver.url, "events": ["job.finished"]})
    assert hook.status_code == 201, hook.text
    submitted = await api.post(
        "/v1/jobs",
        json={"kind": "stress", "function": "slow", "params": {"duration_s": 10, "rps": 20}},
        headers={"X-Request-ID": "req-live-progress-1"},
    )
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    async with AsyncSession(engine) as session:
        assert await session.scalar(select(Job.request_id).where(Job.id == job_id)) == (
            "req-live-progress-1"
        )

    # The event stream is opened before the worker starts, polling runs beside it.
    stream = asyncio.create_task(api.get(f"/v1/jobs/{job_id}/events", timeout=120))
    polled = asyncio.create_task(_poll(api, job_id))
    worker = create_worker(live_settings, burst=True)
    try:
        await worker.main()
    finally:
        await worker.close()
    lives = await asyncio.wait_for(polled, 30)
    sse = await asyncio.wait_for(stream, 30)

    # Live figures through GET: at least 3 updates, request counts growing.
    requests = [live["requests"] for live in lives]
    assert len(requests) >= 3, lives
    assert requests == sorted(requests), requests
    assert requests[-1] > requests[0], requests
    assert {"current_rps", "average_rps", "p50_ms", "p99_ms", "users", "failures"} <= set(lives[-1])
    assert lives[-1]["users"] == 5  # open loop at 20 req/s: 20 x 0.25 s users

    # The same through server-sent events, then `finished`, and the stream closes.
    assert sse.status_code == 200
    assert sse.headers["content-type"].startswith("text/event-stream")
    events = _sse(sse.text)
    progress = [d["live"]["requests"] for n, d in events if n == "progress" and d["live"]]
    assert len(progress) >= 3
    assert progress == sorted(progress)
    assert progress[-1] > progress[0]
    assert events[-1][0] == "finished"
    assert events[-1][1]["status"] == "succeeded"
    assert "id: " in sse.text
    assert sse.text.startswith("retry: ")

    job = (await api.get(f"/v1/jobs/{job_id}")).json()
    assert job["status"] == "succeeded", job
    result = job["result"]
    print(json.dumps({"live": lives, "phases": result["phases"], "cold": result["cold_starts"]}))

    # Warm-up vs steady state: the cold starts land in the warm-up.
    phases = result["phases"]
    assert result["cold_starts"] >= 1, result
    assert "x-fc-instance-id" in result["cold_starts_source"]
    assert phases["overall"]["requests"] == result["requests"]
    assert phases["warm_up"]["requests"] + phases["steady"]["requests"] == result["requests"]
    assert phases["overall"]["p99_ms"] >= 1000  # a cold start (1.2 s import) is in the top 1%
    assert phases["steady"]["p99_ms"] < phases["overall"]["p99_ms"]
    assert phases["warm_up"]["max_ms"] >= 1000
    assert result["headline"]["phase"] == "steady"
    assert result["headline"]["p99_ms"] == phases["steady"]["p99_ms"]

    # Artifacts: listed, downloadable, and the CSVs parse.
    listed = (await api.get(f"/v1/jobs/{job_id}/artifacts")).json()["items"]
    names = {a["name"]: a for a in listed}
    kept = {"timeline.json", "timeline.csv", "locust_stats.csv", "locust_stats_history.csv"}
    assert kept <= set(names), names
    timeline_csv = await api.get(names["timeline.csv"]["url"])
    assert timeline_csv.status_code == 200
    assert timeline_csv.headers["content-type"].startswith("text/csv")
    assert f'filename="{job_id}-timeline.csv"' in timeline_csv.headers["content-disposition"]
    assert len(timeline_csv.content) == names["timeline.csv"]["size"]
    rows = list(csv.DictReader(io.StringIO(timeline_csv.text)))
    assert sum(int(r["rps"]) for r in rows) == result["requests"]
    stats_csv = (await api.get(names["locust_stats.csv"]["url"])).text
    stats = list(csv.DictReader(io.StringIO(stats_csv)))
    aggregated = next(r for r in stats if r["Name"] == "Aggregated")
    # Locust's own count (its last CSV write may miss requests finishing at the stop).
    assert 0 < int(aggregated["Request Count"]) <= result["requests"]
    timeline = (await api.get(names["timeline.json"]["url"])).json()
    assert timeline == result["timeline"]
    missing = await api.get(f"/v1/jobs/{job_id}/artifacts/nothing.csv")
    assert missing.status_code == 404
    assert missing.json()["code"] == "artifact_not_found"

    # job.finished, delivered to a loopback receiver, carries the headline and a link.
    box = SecretBox(TEST_SECRET_KEY)
    async with background_dispatcher(live_settings, Database(engine), box):
        await eventually(lambda: bool(receiver.received()), what="the job.finished delivery")
    body = receiver.received()[0].json()
    data = body["data"]
    assert data["headline"] == {
        "requests": result["requests"],
        "rps": result["headline"]["rps"],
        "p99_ms": result["headline"]["p99_ms"],
        "p99_phase": "steady",
        "failures": result["failures"]["total"],
    }
    report_url = data["report_url"]
    assert report_url.startswith(f"{BASE}/v1/jobs/{job_id}/report?expires=")
    async with httpx.AsyncClient(transport=api._transport, base_url=BASE) as browser:
        opened = await browser.get(report_url)  # no bearer token
        assert opened.status_code == 200, opened.text
        assert "Warm-up and steady state" in opened.text
        assert (await browser.get(f"/v1/jobs/{job_id}/report")).status_code == 401

"""/metrics over HTTP: who may scrape it, and that its values follow what the API did
(requests by route template, a deploy, a conflict, a drift check, a queued job, the pool)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from alibabacloud_fc20230330.client import Client
from redis.asyncio import Redis

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.jobs.kinds import unregister
from service.kit.settings import Settings
from tests.conftest import REDIS_URL, token_with, unavailable
from tests.deploys.conftest import BASE_CONFIG, deploy, first_deploy, sdk_update
from tests.fc import inject, register_account
from tests.jobs.kinds import NAME, install
from tests.telemetry.conftest import scrape

DEPLOYMENTS = "/v1/accounts/{account}/functions/{name}/deployments"


async def test_a_scrape_needs_a_read_token_unless_metrics_are_public(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, settings: Settings
) -> None:
    refused = await anonymous.get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    read = await token_with(client, "read")
    scraped = await scrape(anonymous, Authorization=f"Bearer {read}")
    assert scraped.value("fcplane_metrics_source_up", source="database") == 1
    public = create_app(settings.model_copy(update={"metrics_public": True}))
    async with (
        public.router.lifespan_context(public),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=public), base_url="http://t") as http,
    ):
        assert (await scrape(http)).value("fcplane_drift_events_open") == 0
    # Left out of the OpenAPI document (it is no part of the JSON API).
    assert "/metrics" not in (await anonymous.get("/openapi.json")).json()["paths"]


async def test_metrics_can_be_turned_off(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_enabled": False}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        assert (await http.get("/metrics")).status_code == 404
        # Request ids do not depend on metrics.
        assert (await http.get("/healthz", headers={"X-Request-ID": "r-1"})).headers[
            "x-request-id"
        ] == "r-1"


async def test_requests_are_counted_by_route_template_never_by_path(
    client: httpx.AsyncClient,
) -> None:
    for name in ("alpha", "beta"):
        missing = await client.get(f"/v1/accounts/local/functions/{name}")
        assert missing.status_code == 404
    await client.get("/no/such/path/1")
    await client.get("/no/such/path/2")
    scraped = await scrape(client)
    by_template = {
        "method": "GET",
        "route": "/v1/accounts/{account}/functions/{name}",
        "status": "404",
    }
    assert scraped.value("fcplane_http_requests_total", **by_template) == 2
    assert scraped.value("fcplane_http_request_duration_seconds_count", **by_template) == 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert scraped.value("fcplane_http_requests_total", **unmatched) == 2
    assert "alpha" not in scraped.text
    assert "/no/such" not in scraped.text


async def test_a_deploy_a_conflict_and_a_drift_check_move_their_metrics(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    before = await scrape(client)
    assert before.count("fcplane_deploys_total", kind="deploy", outcome="succeeded") == 0
    assert before.value("fcplane_drift_events_open") == 0

    await first_deploy(client, "hello")
    deployed = await scrape(client)
    assert deployed.count("fcplane_deploys_total", kind="deploy", outcome="succeeded") == 1
    created = {"method": "POST", "route": DEPLOYMENTS, "status": "201"}
    assert deployed.count("fcplane_http_requests_total", **created) == 1
    # The deploy called FC through the gateway: each call observed by operation and outcome.
    ok_calls = {"operation": "CreateFunction", "outcome": "ok"}
    assert deployed.count("fcplane_fc_call_duration_seconds_count", **ok_calls) == 1

    second = await deploy(client, "hello", {**BASE_CONFIG, "timeout": 10}, base=1)
    assert second.status_code == 201, second.text
    stale = await deploy(client, "hello", {**BASE_CONFIG, "memorySize": 1024}, base=1)
    assert stale.status_code == 409
    conflicted = await scrape(client)
    assert conflicted.count("fcplane_conflicts_total", code="revision_conflict") == 1
    assert conflicted.count("fcplane_deploys_total", kind="deploy", outcome="conflict") == 1
    assert conflicted.count("fcplane_deploys_total", kind="deploy", outcome="succeeded") == 2

    sdk_update(fc, "hello", timeout=9)  # a console edit
    check = await client.post("/v1/accounts/local/functions/hello/drift-check")
    assert check.json()["drifted"] is True
    drifted = await scrape(client)
    assert drifted.value("fcplane_drift_events_open") == 1
    assert drifted.count("fcplane_fc_call_duration_seconds_count", **ok_calls) == 1


async def test_each_fc_attempt_is_observed_with_its_outcome(
    client: httpx.AsyncClient, emulator: EmbeddedEmulator, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    before = await scrape(client)
    ok = {"operation": "GetFunction", "outcome": "ok"}
    throttled = {"operation": "GetFunction", "outcome": "fc_throttled"}
    inject(emulator, action="GetFunction", status=429, count=2)
    check = await client.post("/v1/accounts/local/functions/hello/drift-check")
    assert check.status_code == 200, check.text  # retried through the throttling
    after = await scrape(client)
    assert after.count("fcplane_fc_call_duration_seconds_count", **throttled) == 2
    assert after.count("fcplane_fc_call_duration_seconds_count", **ok) > before.count(
        "fcplane_fc_call_duration_seconds_count", **ok
    )


@pytest.fixture
def job_kind() -> Iterator[str]:
    install()
    yield NAME
    unregister(NAME)


@pytest.fixture
async def queued_app(
    settings: Settings, admin_token: str, emulator: EmbeddedEmulator, fc: Client
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with Redis as its job queue (a queue of its own) and no worker."""
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except OSError as exc:
        await redis.aclose()
        unavailable("Redis", str(exc))
    queue = f"fcplane-test-telemetry:{uuid.uuid4().hex}"
    with_redis = {"redis_url": REDIS_URL, "redis_queue_name": queue}
    app = create_app(settings.model_copy(update=with_redis))
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://t",
                headers={"Authorization": f"Bearer {admin_token}"},
            ) as http,
        ):
            await register_account(http, emulator)
            yield http
    finally:
        await redis.delete(queue)
        await redis.aclose()


@pytest.mark.redis
async def test_a_submitted_job_shows_in_the_queue_and_job_gauges(
    queued_app: httpx.AsyncClient, job_kind: str
) -> None:
    http = queued_app
    await first_deploy(http, "hello")
    before = await scrape(http)
    assert before.value("fcplane_metrics_source_up", source="redis") == 1
    assert before.value("fcplane_job_queue_depth") == 0
    assert before.value("fcplane_jobs", status="queued") == 0
    submitted = await http.post(
        "/v1/jobs", json={"kind": job_kind, "function": "hello", "params": {"invocations": 1}}
    )
    assert submitted.status_code == 202, submitted.text
    after = await scrape(http)
    assert after.value("fcplane_job_queue_depth") == 1
    assert after.value("fcplane_jobs", status="queued") == 1
    assert after.value("fcplane_jobs", status="running") == 0


async def test_an_exhausted_pool_shows_as_waiting_and_the_scrape_still_answers(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"database_pool_size": 1, "metrics_public": True}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        db = app.state.fcplane.db
        held, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with db.read() as session:
                await session.connection()
                held.set()
                await release.wait()

        async def wait_for_one() -> None:
            async with db.read() as session:
                await session.connection()

        holder = asyncio.create_task(hold())
        await held.wait()
        waiter = asyncio.create_task(wait_for_one())
        await asyncio.sleep(0.05)  # lets the waiter queue for the connection
        scraped = await scrape(http)
        release.set()
        await asyncio.gather(holder, waiter)
    assert scraped.value("fcplane_db_pool_size") == 1
    assert scraped.value("fcplane_db_pool_in_use") == 1
    waiting = scraped.value("fcplane_db_pool_waiting")
    assert waiting is not None
    assert waiting >= 1
    # Its own read could not get a connection in time: reported, not hung on.
    assert scraped.value("fcplane_metrics_source_up", source="database") == 0
    assert scraped.value("fcplane_drift_events_open") is None

"""Cancelling, restarting and sweeping in-process jobs (the embedded setup, no Redis)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.kit.settings import Settings
from service.models import Job
from service.models.base import utcnow
from tests.jobs.conftest import job_events, submit, wait_for


async def test_cancel_stops_a_running_job_within_seconds(
    client: httpx.AsyncClient, deployed: str, engine: AsyncEngine
) -> None:
    job = await submit(client, invocations=100, sleep_s=0.2)
    await wait_for(client, job["id"], "running", progressed=True)
    asked = time.monotonic()
    asked_at = utcnow()
    response = await client.post(f"/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 202
    assert response.json()["cancel_requested"] is True
    cancelled = await wait_for(client, job["id"], "cancelled", timeout=10)
    assert time.monotonic() - asked < 5  # within seconds, not the job's 20 s
    assert cancelled["error"] == "cancelled"
    assert cancelled["progress"] < 1
    assert asked_at <= datetime.fromisoformat(cancelled["finished_at"]) <= utcnow()
    [event] = await job_events(engine)
    assert event.payload["status"] == "cancelled"
    # Cancelling again is harmless; a finished job cannot be cancelled.
    assert (await client.post(f"/v1/jobs/{job['id']}/cancel")).status_code == 202
    done = await wait_for(client, (await submit(client, invocations=1))["id"], "succeeded")
    refused = await client.post(f"/v1/jobs/{done['id']}/cancel")
    assert refused.status_code == 409
    assert refused.json()["code"] == "job_finished"
    assert (await client.post("/v1/jobs/0000/cancel")).status_code == 404


async def test_a_job_that_ignores_cancel_is_interrupted_after_the_grace_period(
    client: httpx.AsyncClient, deployed: str
) -> None:
    job = await submit(client, invocations=100, sleep_s=0.2, ignore_cancel=True)
    await wait_for(client, job["id"], "running", progressed=True)
    await client.post(f"/v1/jobs/{job['id']}/cancel")
    cancelled = await wait_for(client, job["id"], "cancelled", timeout=5)
    assert "interrupted" in cancelled["error"]


async def test_a_queued_job_is_cancelled_at_once_and_never_runs(
    client: httpx.AsyncClient, deployed: str
) -> None:
    # One job at a time (FCPLANE_JOB_MAX_CONCURRENT=1): the second waits.
    first = await submit(client, invocations=100, sleep_s=0.1)
    await wait_for(client, first["id"], "running", progressed=True)
    second = await submit(client, invocations=1)
    response = await client.post(f"/v1/jobs/{second['id']}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    await client.post(f"/v1/jobs/{first['id']}/cancel")
    await wait_for(client, first["id"], "cancelled")
    never = (await client.get(f"/v1/jobs/{second['id']}")).json()
    assert never["status"] == "cancelled"
    assert never["started_at"] is None
    assert never["attempts"] == 0


async def test_jobs_left_by_a_stopped_api_run_after_restart(
    settings: Settings, admin_token: str, deployed: str, client: httpx.AsyncClient
) -> None:
    # Stop a second API in the middle of a job it runs: an orderly stop gives
    # the job back to the queue without counting the attempt, and the queued
    # job is picked up by the next API that sweeps (here `client`'s).
    second = create_app(settings)
    async with second.router.lifespan_context(second), _client(second, admin_token) as http:
        job = await submit(http, invocations=30, sleep_s=0.1)
        await wait_for(http, job["id"], "running", progressed=True)
    finished = await wait_for(client, job["id"], "succeeded", timeout=30)
    assert finished["attempts"] == 1
    assert finished["result"]["invocations"] == 30


def _client(app: FastAPI, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": f"Bearer {token}"},
    )


async def _orphan(engine: AsyncEngine, job_id: str, attempts: int) -> None:
    """Leave the row as a worker that died mid-job leaves it: running, lease expired."""
    async with engine.begin() as conn:
        await conn.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status="running",
                lease_owner="arq:dead@gone:1",
                lease_expires_at=utcnow() - timedelta(seconds=1),
                attempts=attempts,
                started_at=utcnow(),
            )
        )


async def test_sweeper_retries_then_fails_jobs_of_dead_workers(
    client: httpx.AsyncClient, deployed: str, engine: AsyncEngine
) -> None:
    retried = await wait_for(client, (await submit(client, invocations=2))["id"], "succeeded")
    given_up = await wait_for(client, (await submit(client, invocations=1))["id"], "succeeded")
    await _orphan(engine, retried["id"], attempts=1)
    await _orphan(engine, given_up["id"], attempts=2)

    again = await wait_for(client, retried["id"], "succeeded", timeout=10)
    assert again["attempts"] == 2
    assert again["error"] is None
    assert again["result"]["invocations"] == 2
    failed = await wait_for(client, given_up["id"], "failed", timeout=10)
    assert failed["error"] == (
        "its worker stopped responding (lease expired) on attempt 2 of 2; giving up"
    )
    assert failed["attempts"] == 2
    events = [(e.payload["job_id"], e.payload["status"]) for e in await job_events(engine)]
    assert (given_up["id"], "failed") in events
    assert events.count((retried["id"], "succeeded")) == 2

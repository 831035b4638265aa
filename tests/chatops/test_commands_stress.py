"""stress from chat: a real stress job, queued as POST /v1/jobs queues it, run by the
embedded runner, and read back with `jobs <id>`."""

from __future__ import annotations

import httpx
import pytest
from alibabacloud_fc20230330.client import Client
from fastapi import FastAPI

from service.kit.settings import Settings
from tests.chatops.chat_commands import ALICE, CAROL, events, field, open_chat
from tests.deploys.conftest import first_deploy
from tests.jobs.conftest import wait_for

PUBLIC_URL = "https://fcplane.example.com"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The embedded runner's sweeper hands queued jobs out quickly; links are absolute.
    return settings.model_copy(
        update={
            "job_sweep_seconds": 0.2,
            "public_url": PUBLIC_URL,
            "drift_scan_interval_seconds": 0,
        }
    )


async def test_stress_queues_a_job_that_runs_and_reports(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    app: FastAPI,
    fc: Client,
    fc_account: str,
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    assert "needs the `deploy` scope" in (await chat.say("stress hello 2s 2users", CAROL)).text

    queued = await chat.say("stress hello 2s 2users", ALICE)
    assert queued.title == "Stress job queued for local/hello", queued
    job_id = field(queued, "job")
    assert queued.links == [("job", f"{PUBLIC_URL}/v1/jobs/{job_id}")]
    job = (await client.get(f"/v1/jobs/{job_id}")).json()
    assert job["params"]["users"] == 2
    assert job["params"]["duration_s"] == 2
    assert job["created_by"] == "slack:U0ALICE (alice)"
    [event] = await events(client, kind="command", outcome="ok")
    assert event["job_id"] == job_id

    finished = await wait_for(client, job_id, "succeeded", "failed", timeout=60)
    assert finished["status"] == "succeeded", finished
    reply = await chat.say(f"jobs {job_id}", CAROL)
    assert reply.tone == "success"
    [report] = [url for label, url in reply.links if label == "report"]
    # A signed link: it opens in a browser, without the bearer token the client sends.
    assert report.startswith(f"{PUBLIC_URL}/v1/jobs/{job_id}/report?expires=")
    path = report.removeprefix(PUBLIC_URL)
    assert (await anonymous.get(path)).status_code == 200
    assert (await anonymous.get(f"/v1/jobs/{job_id}/report")).status_code == 401


async def test_open_loop_and_limits(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    queued = await chat.say("stress hello 1s 5rps --target invoke", ALICE)
    job = (await client.get(f"/v1/jobs/{field(queued, 'job')}")).json()
    assert job["params"]["rps"] == 5
    # The kind's own limits answer, naming the field.
    too_long = await chat.say("stress hello 100h 1users", ALICE)
    assert too_long.tone == "error"
    assert "params.duration_s" in too_long.text

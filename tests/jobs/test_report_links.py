"""Signed report links, the event stream and artifacts, on jobs run in-process."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx

from service.jobs.links import link_key, signature
from service.kit.settings import Settings
from service.webhooks.messages import Event, slack_body, summary_lines
from tests.jobs.conftest import submit, wait_for
from tests.jobs.test_live_progress import _sse


async def _finished_job(client: httpx.AsyncClient) -> str:
    job = await submit(client, invocations=2)
    done = await wait_for(client, job["id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done
    return str(done["id"])


def _link(job_id: str, expires: int, sig: str) -> str:
    return f"/v1/jobs/{job_id}/report?expires={expires}&signature={sig}"


async def test_a_signed_link_opens_the_report_without_a_token(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, deployed: str
) -> None:
    job_id = await _finished_job(client)
    created = await client.post(f"/v1/jobs/{job_id}/report-links", json={"ttl_seconds": 3600})
    assert created.status_code == 201, created.text
    link = created.json()
    assert link["url"].startswith(f"{client.base_url}/v1/jobs/{job_id}/report?expires=")
    assert created.headers["location"] == link["url"]
    expires = int(parse_qs(urlsplit(link["url"]).query)["expires"][0])
    assert abs(expires - (time.time() + 3600)) < 60
    opened = await anonymous.get(link["url"])
    assert opened.status_code == 200, opened.text
    assert "invoke-loop" in opened.text
    # The same signature opens the job's other report, and nothing without it.
    locust = await anonymous.get(link["url"].replace("/report?", "/report/locust?"))
    assert locust.status_code == 404  # signature accepted; this kind stores no Locust report
    assert (await anonymous.get(f"/v1/jobs/{job_id}/report")).status_code == 401


async def test_tampered_or_expired_links_are_refused(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    deployed: str,
    settings: Settings,
) -> None:
    job_id = await _finished_job(client)
    other_id = await _finished_job(client)
    key = link_key(settings)
    expires = int(time.time()) + 3600
    good = signature(key, job_id, expires)
    assert (await anonymous.get(_link(job_id, expires, good))).status_code == 200
    refused = [
        _link(job_id, expires, good[:-1] + ("0" if good[-1] != "0" else "1")),  # signature
        _link(job_id, expires + 1, good),  # expiry moved
        _link(other_id, expires, good),  # another job
        f"/v1/jobs/{job_id}/report?expires={expires}",  # half a link
        f"/v1/jobs/{job_id}/report?signature={good}",
    ]
    for url in refused:
        response = await anonymous.get(url)
        assert response.status_code == 403, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_report_link"
    # Valid for two seconds, then never again.
    soon = int(time.time()) + 2
    short = _link(job_id, soon, signature(key, job_id, soon))
    assert (await anonymous.get(short)).status_code == 200
    while time.time() < soon + 0.2:
        await asyncio.sleep(0.1)
    expired = await anonymous.get(short)
    assert expired.status_code == 403
    assert expired.json()["field"] == "expires"
    past = int(time.time()) - 10
    stale = await anonymous.get(_link(job_id, past, signature(key, job_id, past)))
    assert stale.status_code == 403


async def test_report_link_requests_are_validated(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, deployed: str
) -> None:
    job_id = await _finished_job(client)
    for ttl in (10, 31 * 24 * 3600):
        response = await client.post(f"/v1/jobs/{job_id}/report-links", json={"ttl_seconds": ttl})
        assert response.status_code == 422, response.text
    unknown = await client.post("/v1/jobs/0000/report-links", json={})
    assert unknown.status_code == 404
    assert (await anonymous.post(f"/v1/jobs/{job_id}/report-links", json={})).status_code == 401


async def test_events_stream_live_figures_until_the_job_ends(
    client: httpx.AsyncClient, deployed: str
) -> None:
    job = await submit(client, invocations=4, sleep_s=0.8)
    response = await client.get(f"/v1/jobs/{job['id']}/events", timeout=60)
    assert response.status_code == 200
    events = _sse(response.text)
    steps = [data["live"]["step"] for name, data in events if name == "progress" and data["live"]]
    assert len(steps) >= 2, events
    assert steps == sorted(steps), events
    name, final = events[-1]
    assert name == "finished"
    assert final["status"] == "succeeded"
    # An eval-shaped live (step, steps, partial results) is kept as the last snapshot.
    assert final["live"] == {"step": 4, "steps": 4, "partial": ["v1", "v1", "v1"]}
    got = (await client.get(f"/v1/jobs/{job['id']}")).json()
    assert got["live"] == final["live"]
    # A finished job's stream is its final state and nothing else.
    again = _sse((await client.get(f"/v1/jobs/{job['id']}/events")).text)
    assert [n for n, _ in again] == ["finished"]
    assert (await client.get("/v1/jobs/0000/events")).status_code == 404


async def test_artifacts_are_listed_and_downloaded(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, deployed: str
) -> None:
    job_id = await _finished_job(client)
    listed = await client.get(f"/v1/jobs/{job_id}/artifacts")
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item == {
        "name": "bodies.json",
        "media_type": "application/json",
        "size": len(b'["v1", "v1"]'),
        "url": f"{client.base_url}/v1/jobs/{job_id}/artifacts/bodies.json",
    }
    download = await client.get(item["url"])
    assert download.json() == ["v1", "v1"]
    assert download.headers["content-disposition"] == (
        f'attachment; filename="{job_id}-bodies.json"'
    )
    assert (await anonymous.get(item["url"])).status_code == 401
    assert (await client.get("/v1/jobs/0000/artifacts")).status_code == 404
    bad = await client.get(f"/v1/jobs/{job_id}/artifacts/..%2Fx")
    assert bad.status_code in (404, 422)


async def test_the_job_runs_under_the_submitting_request_id(
    client: httpx.AsyncClient, deployed: str
) -> None:
    response = await client.post(
        "/v1/jobs",
        json={"kind": "invoke-loop", "function": deployed, "params": {"invocations": 1}},
        headers={"X-Request-ID": "req-from-the-client-1"},
    )
    assert response.status_code == 202
    done = await wait_for(client, response.json()["id"], "succeeded")
    # Read inside the job kind while it ran: its log lines carry the id.
    assert done["result"]["request_id"] == "req-from-the-client-1"


def test_chat_messages_show_the_headline_and_the_report_link() -> None:
    event = Event(
        uid="evt_1",
        type="job.finished",
        function="hello",
        account="local",
        actor="ci",
        link="https://fcplane.example.com/v1/jobs/j1",
        payload={
            "job_id": "j1",
            "kind": "stress",
            "status": "succeeded",
            "message": "stress job j1 succeeded",
            "attempts": 1,
            "headline": {
                "requests": 1480,
                "rps": 50.99,
                "p99_ms": 41.0,
                "p99_phase": "steady",
                "failures": 0,
            },
            "report_url": "https://fcplane.example.com/v1/jobs/j1/report?expires=1&signature=ab",
        },
        created_at=datetime.now(UTC),
    )
    lines = summary_lines(event)
    assert "Headline: requests 1480 · rps 50.99 · p99 ms 41.0 · p99 phase steady · failures 0" in (
        lines
    )
    assert lines[-1] == f"Report: {event.payload['report_url']}"
    # Slack's mrkdwn wants & escaped; Slack turns it back into the same URL.
    escaped = event.payload["report_url"].replace("&", "&amp;")
    assert f"Report: {escaped}" in slack_body(event)["text"]

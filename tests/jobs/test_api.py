"""/v1/jobs with in-process jobs (no Redis): submit, run, read, list, reports, validation."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from service.kit.pagination import encode_cursor
from tests.conftest import token_with
from tests.jobs.conftest import job_events, submit, wait_for
from tests.jobs.kinds import NAME


async def test_job_runs_to_success_with_result_report_and_event(
    client: httpx.AsyncClient, deployed: str, engine: AsyncEngine
) -> None:
    queued = await submit(client, invocations=3, payload="hi")
    assert queued["status"] == "queued"
    assert queued["kind"] == NAME
    assert queued["function"] == deployed
    assert queued["progress"] == 0
    assert queued["params"] == {
        "invocations": 3,
        "sleep_s": 0.0,
        "payload": "hi",
        "fail_at": None,
        "ignore_cancel": False,
    }

    job = await wait_for(client, queued["id"], "succeeded")
    assert job["result"]["invocations"] == 3
    assert job["result"]["bodies"] == ["v1"] * 3
    assert {"config", "head_revision", "triggers"} <= set(job["result"]["facts"])
    assert job["progress"] == 1
    assert job["progress_note"] == "3/3 calls"
    assert job["error"] is None
    assert job["attempts"] == 1
    assert job["created_by"] == "bootstrap"
    summary_url = f"{client.base_url}/v1/jobs/{job['id']}/report"
    assert job["reports"] == [{"name": "summary", "url": summary_url}]
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]

    report = await client.get(job["reports"][0]["url"])
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "sandbox" in report.headers["content-security-policy"]
    assert "<li>v1</li>" in report.text
    locust = await client.get(f"/v1/jobs/{job['id']}/report/locust")
    assert locust.status_code == 404
    assert locust.json()["code"] == "report_not_found"

    [event] = await job_events(engine)
    assert event.function == deployed
    assert event.resource == f"/v1/jobs/{job['id']}"
    assert event.payload["status"] == "succeeded"
    assert event.payload["job_id"] == job["id"]


async def test_report_is_404_until_stored(client: httpx.AsyncClient, deployed: str) -> None:
    job = await submit(client, invocations=20, sleep_s=0.1)
    response = await client.get(f"/v1/jobs/{job['id']}/report")
    assert response.status_code == 404
    assert response.json()["code"] == "report_not_found"
    assert (await client.get("/v1/jobs/0000/report")).json()["code"] == "not_found"
    await client.post(f"/v1/jobs/{job['id']}/cancel")
    await wait_for(client, job["id"], "cancelled")


async def test_failing_kind_fails_the_job_with_its_error(
    client: httpx.AsyncClient, deployed: str, engine: AsyncEngine
) -> None:
    job = await wait_for(client, (await submit(client, invocations=3, fail_at=2))["id"], "failed")
    assert job["error"] == "unavailable: call 2 failed on purpose"
    assert job["result"] is None
    assert job["progress"] == 1 / 3
    [event] = await job_events(engine)
    assert event.payload["status"] == "failed"
    assert event.payload["error"] == job["error"]


async def test_invalid_submissions_are_refused_before_anything_is_queued(
    client: httpx.AsyncClient, fc_account: str, deployed: str
) -> None:
    def fields(response: httpx.Response) -> list[str]:
        return [e["field"] for e in response.json().get("errors", [])]

    unknown_kind = await client.post(
        "/v1/jobs", json={"kind": "nope", "function": deployed, "params": {}}
    )
    assert unknown_kind.status_code == 422
    assert unknown_kind.json()["field"] == "kind"
    assert NAME in unknown_kind.json()["detail"]

    bad_params = await client.post(
        "/v1/jobs",
        json={"kind": NAME, "function": deployed, "params": {"invocations": 0, "bogus": 1}},
    )
    assert bad_params.status_code == 422
    assert bad_params.json()["code"] == "validation_error"
    assert sorted(fields(bad_params)) == ["params.bogus", "params.invocations"]

    missing = await client.post("/v1/jobs", json={"kind": NAME, "function": deployed, "params": {}})
    assert fields(missing) == ["params.invocations"]

    no_function = await client.post(
        "/v1/jobs", json={"kind": NAME, "function": "ghost", "params": {"invocations": 1}}
    )
    assert no_function.status_code == 404

    # The kind's own check (it needs a deployed function).
    assert (
        await client.post("/v1/accounts/local/functions", json={"name": "bare"})
    ).status_code == 201
    undeployed = await client.post(
        "/v1/jobs", json={"kind": NAME, "function": "bare", "params": {"invocations": 1}}
    )
    assert undeployed.status_code == 422
    assert undeployed.json()["field"] == "function"

    bad_body = await client.post("/v1/jobs", json={"kind": NAME, "params": {}})
    assert bad_body.status_code == 422
    assert "function" in fields(bad_body)

    assert (await client.get("/v1/jobs")).json() == {"items": [], "next_cursor": None}


async def test_scopes(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, deployed: str
) -> None:
    read = {"Authorization": f"Bearer {await token_with(client, 'read')}"}
    body = {"kind": NAME, "function": deployed, "params": {"invocations": 1}}
    assert (await anonymous.post("/v1/jobs", json=body, headers=read)).status_code == 403
    assert (await anonymous.get("/v1/jobs", headers=read)).status_code == 200
    assert (await anonymous.get("/v1/jobs")).status_code == 401
    job = await submit(client, invocations=1)
    assert (await anonymous.post(f"/v1/jobs/{job['id']}/cancel", headers=read)).status_code == 403
    await wait_for(client, job["id"], "succeeded")


async def test_list_filters_and_pages(client: httpx.AsyncClient, deployed: str) -> None:
    ids = [(await submit(client, invocations=1))["id"] for _ in range(3)]
    for job_id in ids:
        await wait_for(client, job_id, "succeeded")
    first = (await client.get("/v1/jobs", params={"limit": 2})).json()
    assert [j["id"] for j in first["items"]] == ids[::-1][:2]
    second = (
        await client.get("/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [j["id"] for j in second["items"]] == ids[:1]
    assert second["next_cursor"] is None

    async def count(**params: str) -> int:
        response = await client.get("/v1/jobs", params=params)
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    assert await count(status="succeeded", kind=NAME, function=deployed) == 3
    assert await count(status="running") == 0
    assert await count(kind="stress") == 0
    assert await count(function="other") == 0
    assert (await client.get("/v1/jobs", params={"status": "done"})).status_code == 422
    for forged in ("garbage", encode_cursor("2026-01-01T00:00:00|x"), encode_cursor("x|y")):
        refused = await client.get("/v1/jobs", params={"cursor": forged})
        assert refused.status_code == 422
        assert refused.json()["code"] == "invalid_cursor"
    assert (await client.get("/v1/jobs/0123-abcd")).status_code == 404
    assert (await client.get("/v1/jobs/not-a-job")).status_code == 422

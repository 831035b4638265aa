"""The real stress kind through the job system: API → in-process job → stored reports."""

from __future__ import annotations

import httpx

# Imported by name, not through the registry: the registry leaves a kind whose
# module fails to import out (and logs it), which would make these tests fail
# for a misleading reason or, guarded by a skip, not run at all. Here an
# ImportError fails the module.
from service.evals.kinds import EVAL_CONCURRENCY, EVAL_SPEC
from service.jobs.kinds import KINDS
from service.loadtest.kind import STRESS
from tests.jobs.conftest import wait_for


def test_every_shipped_kind_is_registered() -> None:
    assert KINDS["stress"] is STRESS
    assert KINDS["eval-spec"] is EVAL_SPEC
    assert KINDS["eval-concurrency"] is EVAL_CONCURRENCY


async def test_stress_job_stores_result_and_both_reports(
    client: httpx.AsyncClient, deployed: str
) -> None:
    response = await client.post(
        "/v1/jobs",
        json={"kind": "stress", "function": deployed, "params": {"duration_s": 2, "users": 2}},
    )
    assert response.status_code == 202, response.text
    job = await wait_for(client, response.json()["id"], "succeeded", "failed", timeout=60)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["requests"] >= 2, result  # each of the 2 users sent at least once
    assert result["failures"] == {"total": 0, "by_type": {}}
    assert sum(point["rps"] for point in result["timeline"]) == result["requests"]
    assert result["requested_duration_s"] == 2
    assert result["measured_window_s"] == result["duration_s"]
    assert "separates the warm-up from the steady state" in result["window_note"]
    links = {link["name"]: link["url"] for link in job["reports"]}
    assert links == {
        "summary": f"{client.base_url}/v1/jobs/{job['id']}/report",
        "locust": f"{client.base_url}/v1/jobs/{job['id']}/report/locust",
    }
    for url in links.values():
        report = await client.get(url)
        assert report.status_code == 200
        assert report.headers["content-type"].startswith("text/html")
    summary = (await client.get(links["summary"])).text
    assert "requested 2 s · measured window" in summary


async def test_stress_params_are_validated_by_the_kind(
    client: httpx.AsyncClient, deployed: str
) -> None:
    no_loop = await client.post(
        "/v1/jobs", json={"kind": "stress", "function": deployed, "params": {"duration_s": 2}}
    )
    assert no_loop.status_code == 422
    assert [e["field"] for e in no_loop.json()["errors"]] == ["params"]
    http = await client.post(
        "/v1/jobs",
        json={
            "kind": "stress",
            "function": deployed,
            "params": {"duration_s": 2, "users": 1, "target": "http"},
        },
    )
    assert http.status_code == 422  # the function has no HTTP trigger
    assert http.json()["field"] == "params.target"

"""The real stress kind through the job system: API → in-process job → stored reports."""

from __future__ import annotations

import httpx
import pytest

from service.jobs.kinds import KINDS
from tests.jobs.conftest import wait_for

pytestmark = pytest.mark.skipif("stress" not in KINDS, reason="the stress kind is not installed")


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
    assert job["result"]["requests"] > 0
    assert set(job["reports"]) >= {"summary", "locust"}
    for path in ("report", "report/locust"):
        report = await client.get(f"/v1/jobs/{job['id']}/{path}")
        assert report.status_code == 200
        assert report.headers["content-type"].startswith("text/html")


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

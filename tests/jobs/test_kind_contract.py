"""Each documented job kind validates its own params (422 naming `params.<field>`), and
what a kind stores as its result is what the API documents for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from service.jobs.contract import JobContext, JobOutcome
from service.jobs.kinds import register, unregister
from service.kit.settings import Settings
from tests.jobs.conftest import wait_for

SPEC = {"cpu": 1, "memorySize": 2048}
CONCURRENCY = {"concurrency": [1, 2], "duration_s": 1, "rt_threshold_ms": 100}


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("stress", {"duration_s": 0, "users": 1}, "params.duration_s"),
        ("stress", {"duration_s": 1, "users": 1, "target": "ftp"}, "params.target"),
        ("stress", {"duration_s": 1, "users": 1, "spawn": 3}, "params.spawn"),
        ("eval-spec", {"invocations": 0}, "params.invocations"),
        ("eval-spec", {"specs": [{**SPEC, "gpu": 1}]}, "params.specs.0.gpu"),
        ("eval-spec", {"strategy": "cheap"}, "params.strategy"),
        ("eval-concurrency", {**CONCURRENCY, "rt_threshold_ms": 0}, "params.rt_threshold_ms"),
        ("eval-concurrency", {"duration_s": 1, "rt_threshold_ms": 100}, "params.concurrency"),
        ("eval-concurrency", {**CONCURRENCY, "method": "TRACE"}, "params.method"),
    ],
)
async def test_params_are_validated_by_their_kind(
    client: httpx.AsyncClient, deployed: str, kind: str, params: dict[str, Any], field: str
) -> None:
    body = {"kind": kind, "function": deployed, "params": params}
    response = await client.post("/v1/jobs", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert field in [e["field"] for e in problem["errors"]]
    assert (await client.get("/v1/jobs")).json()["items"] == []


class _NoParams(BaseModel):
    pass


class _Echo(BaseModel):
    echoed: int


class _Undocumented:
    """A kind whose result is not what its result model says."""

    name = "undocumented"
    params_model: type[BaseModel] = _NoParams
    result_model: type[BaseModel] = _Echo

    async def validate(self, params: BaseModel, facts: dict[str, Any], settings: Settings) -> None:
        pass

    async def run(self, ctx: JobContext, params: BaseModel) -> JobOutcome:
        return JobOutcome(result={"echoed": "not a number"})


@pytest.fixture
def undocumented() -> Iterator[str]:
    register(_Undocumented())
    yield _Undocumented.name
    unregister(_Undocumented.name)


async def test_a_result_that_breaks_its_model_fails_the_job(
    client: httpx.AsyncClient, deployed: str, undocumented: str
) -> None:
    body = {"kind": undocumented, "function": deployed, "params": {}}
    submitted = await client.post("/v1/jobs", json=body)
    assert submitted.status_code == 202, submitted.text
    job = await wait_for(client, submitted.json()["id"], "failed")
    assert job["result"] is None
    assert "unusable outcome" in job["error"]

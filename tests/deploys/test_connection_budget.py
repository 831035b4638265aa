"""One request, at most one database connection at a time: the pool never locks up.

Before, authentication kept its connection for the whole request while the
handler opened more from the same pool, and FC was called inside open
sessions: with more concurrent requests than pooled connections (and a token
cache miss for each) every request waited for a second connection that never
came free, and all failed after the pool timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330.client import Client
from fastapi import FastAPI

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.kit.settings import Settings
from tests.conftest import token_with
from tests.deploys.conftest import BASE_CONFIG, deploy, first_deploy
from tests.fc import register_account


@pytest.fixture
async def small_pool(
    settings: Settings, admin_token: str, emulator: EmbeddedEmulator
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with 5 pooled connections and no token cache: every request authenticates."""
    tight = settings.model_copy(update={"database_pool_size": 5, "token_cache_seconds": 0})
    app = create_app(tight)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://fcplane.test",
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=120,
        ) as http,
    ):
        yield http


async def _setup(http: httpx.AsyncClient, emulator: EmbeddedEmulator) -> None:
    await register_account(http, emulator)
    for name in ("p0", "p1", "p2", "p3", *(f"d{i}" for i in range(10))):
        await first_deploy(http, name)


async def test_forty_mixed_requests_with_distinct_tokens_on_five_connections(
    small_pool: httpx.AsyncClient, emulator: EmbeddedEmulator, fc: Client
) -> None:
    http = small_pool
    await _setup(http, emulator)
    tokens = [await token_with(http, "deploy", name=f"ci-{i}") for i in range(40)]

    def auth(i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[i]}"}

    plan_body = {"config": BASE_CONFIG, "base_revision": 1}
    calls: list[tuple[str, Any]] = []
    for i in range(10):
        calls.append(
            (
                "plan",
                http.post(
                    f"/v1/accounts/local/functions/p{i % 4}/plan", json=plan_body, headers=auth(i)
                ),
            )
        )
    for i in range(10):
        body = {"config": {**BASE_CONFIG, "timeout": 10 + i}, "base_revision": 1}
        calls.append(
            (
                "deploy",
                http.post(
                    f"/v1/accounts/local/functions/d{i}/deployments",
                    json=body,
                    headers=auth(10 + i),
                ),
            )
        )
    for i in range(8):
        calls.append(
            (
                "drift",
                http.post(
                    f"/v1/accounts/local/functions/p{i % 4}/drift-check", headers=auth(20 + i)
                ),
            )
        )
    for i in range(6):
        calls.append(("jobs", http.get("/v1/jobs", headers=auth(28 + i))))
    for i in range(6):
        calls.append(("functions", http.get("/v1/functions", headers=auth(34 + i))))
    responses = await asyncio.gather(*(call for _, call in calls))

    statuses = [(kind, r.status_code) for (kind, _), r in zip(calls, responses, strict=True)]
    assert all(status < 500 for _, status in statuses), [
        (kind, r.status_code, r.text[:200])
        for (kind, _), r in zip(calls, responses, strict=True)
        if r.status_code >= 500
    ]
    expected = {"plan": 200, "deploy": 201, "drift": 200, "jobs": 200, "functions": 200}
    assert all(status == expected[kind] for kind, status in statuses), statuses
    ready = await http.get("/readyz")
    assert ready.status_code == 200


@pytest.fixture
async def one_connection(
    settings: Settings, admin_token: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    single = settings.model_copy(update={"database_pool_size": 1, "token_cache_seconds": 0})
    app = create_app(single)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://fcplane.test",
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=120,
        ) as http,
    ):
        yield app, http


async def test_every_kind_of_request_works_on_a_single_connection(
    one_connection: tuple[FastAPI, httpx.AsyncClient], emulator: EmbeddedEmulator, fc: Client
) -> None:
    # A request that needed a second connection while holding one would wait
    # for itself here (and the blocks refuse to nest at all): each answers.
    _, http = one_connection
    await register_account(http, emulator)
    deployed = await first_deploy(http, "solo")
    assert deployed["to_revision"] == 1
    body = {"config": {**BASE_CONFIG, "timeout": 9}, "base_revision": 1}
    answers = await asyncio.gather(
        http.post("/v1/accounts/local/functions/solo/plan", json={**body, "save": True}),
        http.post("/v1/accounts/local/functions/solo/drift-check"),
        http.post("/v1/drift-checks"),
        http.get("/v1/accounts/local/functions/solo/revisions"),
        http.get("/v1/accounts/local/functions/solo/deployments"),
        http.get("/v1/accounts"),
        http.get("/v1/tokens"),
        http.get("/v1/drift-events"),
        http.get("/v1/jobs"),
        http.get("/v1/webhooks"),
        http.get("/readyz"),
    )
    assert [r.status_code for r in answers] == [200] * len(answers), [
        r.text[:200] for r in answers if r.status_code != 200
    ]
    applied = await http.post(f"/v1/plans/{answers[0].json()['id']}/apply")
    assert applied.status_code == 201, applied.text
    rolled = await http.post(
        "/v1/accounts/local/functions/solo/rollback", json={"to_revision": 1, "base_revision": 2}
    )
    assert rolled.status_code == 201, rolled.text
    again = await deploy(http, "solo", {**BASE_CONFIG, "timeout": 11}, base=3)
    assert again.status_code == 201, again.text
    removed = await http.delete("/v1/accounts/local/functions/solo", params={"base_revision": 4})
    assert removed.status_code == 204, removed.text

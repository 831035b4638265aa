"""More concurrent requests than the database pool has connections (2), each with its own
token, on invoke, logs, a function's metrics and the Prometheus scrape: every one is
answered, none with a 5xx that fcplane made itself."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI

from tests.attacks.conftest import POOL_SIZE, assert_clean, secrets_of
from tests.conftest import token_with
from tests.invocations.test_invoke import deploy_echo

FN = "/v1/accounts/local/functions"
# Far more than the pool; a few per kind so each endpoint waits for a connection.
PER_KIND = 4 * POOL_SIZE
# A hang guard only: a request that waits on the pool forever fails here.
HANG_GUARD_SECONDS = 120


async def test_requests_beyond_the_pool_are_all_answered(
    app: FastAPI, client: httpx.AsyncClient, fc_account: str, admin_token: str
) -> None:
    await deploy_echo(client, "busy")
    deployers = [await token_with(client, "deploy", name=f"d{i}") for i in range(PER_KIND)]
    readers = [await token_with(client, "read", name=f"r{i}") for i in range(PER_KIND)]

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fcplane.test", timeout=60
    ) as http:

        def auth(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        calls = []
        for i, token in enumerate(deployers):
            calls.append(
                http.post(f"{FN}/busy/invoke", json={"payload": {"i": i}}, headers=auth(token))
            )
        for token in readers:
            calls.append(http.get(f"{FN}/busy/logs", headers=auth(token)))
            calls.append(http.get(f"{FN}/busy/metrics", headers=auth(token)))
            calls.append(http.get(f"{FN}/busy/metrics.html", headers=auth(token)))
            calls.append(http.get("/metrics", headers=auth(token)))
            calls.append(http.get(f"{FN}/busy/invocations", headers=auth(token)))
        answers = await asyncio.wait_for(asyncio.gather(*calls), HANG_GUARD_SECONDS)

    secrets = secrets_of(admin_token, *deployers, *readers)
    for response in answers:
        path = response.request.url.path
        assert_clean(response, secrets)
        if path.endswith("/logs"):
            # No logConfig: a clear 409 naming it, not a pool timeout.
            assert response.status_code == 409, response.text
            assert response.json()["code"] == "log_config_missing"
            continue
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
    invoked = [r.json() for r in answers if r.request.url.path.endswith("/invoke")]
    assert sorted(json.dumps(r["response"]["echo"]) for r in invoked) == sorted(
        json.dumps({"i": i}) for i in range(PER_KIND)
    )
    # Every invoke was audited even while the pool was short.
    audited = await client.get(f"{FN}/busy/invocations", params={"limit": 100})
    assert audited.status_code == 200, audited.text
    assert len(audited.json()["items"]) == PER_KIND


async def test_slow_invokes_do_not_hold_the_pool(
    app: FastAPI, client: httpx.AsyncClient, fc_account: str, admin_token: str
) -> None:
    """More slow invokes in flight than the pool has connections: they wait on FC, not on
    a connection, so reads, the scrape and a fast invoke still get through meanwhile."""
    await deploy_echo(client, "slow")
    deployers = [await token_with(client, "deploy", name=f"s{i}") for i in range(POOL_SIZE + 1)]
    reader = await token_with(client, "read", name="reader")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fcplane.test", timeout=60
    ) as http:
        slow = [
            asyncio.ensure_future(
                http.post(
                    f"{FN}/slow/invoke",
                    json={"payload_base64": "c2xlZXA4"},  # "sleep8"
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            for token in deployers
        ]
        await asyncio.sleep(0.5)  # let them reach FC
        read = {"Authorization": f"Bearer {reader}"}
        quick = await asyncio.wait_for(
            asyncio.gather(
                http.get("/metrics", headers=read),
                http.get(f"{FN}/slow/invocations", headers=read),
                http.get(f"{FN}/slow/metrics", headers=read),
                client.post(f"{FN}/slow/invoke", json={"payload": "quick"}),
            ),
            HANG_GUARD_SECONDS,
        )
        still_running = not any(task.done() for task in slow)
        answers = await asyncio.wait_for(asyncio.gather(*slow), HANG_GUARD_SECONDS)
    for response in quick:
        assert response.status_code == 200, (response.request.url, response.text[:500])
    assert quick[3].json()["response"]["echo"] == "quick"
    assert still_running, "the quick requests waited for the slow invokes"
    for response in answers:
        assert response.status_code == 200, response.text[:500]
        assert response.json()["response_text"] == "slept"

"""Racing deploys and deploys that die half-way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.kit.settings import Settings
from tests.deploys.conftest import BASE_CONFIG, deploy, first_deploy, live
from tests.fc import ADMIN_HEADERS


def listed_timeout(fc: Client, name: str) -> int | None:
    # ListFunctions, not GetFunction: the injected latency is on GetFunction.
    functions = fc.list_functions(fc_models.ListFunctionsRequest(prefix=name)).body.functions
    return next((f.timeout for f in functions if f.function_name == name), None)


async def die_after_push(
    http: httpx.AsyncClient, fc: Client, emulator: EmbeddedEmulator, name: str
) -> None:
    """Deploy `name`, then a change (timeout 42) that FC accepts but fcplane never records."""
    await first_deploy(http, name)
    # The read-back after UpdateFunction hangs; the deploy "dies" meanwhile.
    httpx.post(
        f"{emulator.url}/_emulator/faults",
        json={"action": "GetFunction", "latencyMs": 3000, "count": 2},
        headers=ADMIN_HEADERS,
    ).raise_for_status()
    doomed = asyncio.create_task(deploy(http, name, {**BASE_CONFIG, "timeout": 42}, base=1))
    for _ in range(200):
        await asyncio.sleep(0.05)
        if await asyncio.to_thread(listed_timeout, fc, name) == 42:
            break
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    httpx.delete(f"{emulator.url}/_emulator/faults", headers=ADMIN_HEADERS).raise_for_status()


async def test_fifty_racing_deploys_exactly_one_wins(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "race")
    responses = await asyncio.gather(
        *(deploy(client, "race", {**BASE_CONFIG, "timeout": 100 + i}, base=1) for i in range(50))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 49, codes
    winner = next(r for r in responses if r.status_code == 201).json()
    assert winner["to_revision"] == 2
    revisions = (await client.get("/v1/accounts/local/functions/race/revisions")).json()["items"]
    assert [r["number"] for r in revisions] == [2, 1]
    assert live(fc, "race").timeout == winner["revision"]["config"]["timeout"]
    function = (await client.get("/v1/accounts/local/functions/race")).json()
    assert function["head_revision"] == 2
    assert function["deploying"] is None


async def test_deploy_that_dies_after_fc_accepted_shows_up_as_drift(
    settings: Settings,
    fc: Client,
    fc_account: str,
    emulator: EmbeddedEmulator,
    admin_token: str,
    tmp_path: Path,
) -> None:
    # Short, yet long enough for the first deploy to finish well inside it on a busy machine.
    short_lease = settings.model_copy(update={"deploy_lease_seconds": 2.0})
    app = create_app(short_lease)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {admin_token}"},
        ) as http,
    ):
        await die_after_push(http, fc, emulator, "fragile")
        assert live(fc, "fragile").timeout == 42  # FC accepted it ...
        function = (await http.get("/v1/accounts/local/functions/fragile")).json()
        assert function["head_revision"] == 1  # ... fcplane never recorded it
        deployment_id = function["deploying"]
        assert deployment_id
        await asyncio.sleep(2.1)  # the claim's lease runs out

        plan = (
            await http.post(
                "/v1/accounts/local/functions/fragile/plan",
                json={"config": BASE_CONFIG, "base_revision": 1},
            )
        ).json()
        assert plan["drifted"] is True
        assert plan["interrupted_deployment"] == deployment_id
        assert {"path": "/timeout", "base": 3, "value": 42} in plan["remote_changes"]

        check = (await http.post("/v1/accounts/local/functions/fragile/drift-check")).json()
        assert check["drifted"] is True
        assert check["interrupted_deployment"] == deployment_id
        event = (await http.get(f"/v1/drift-events/{check['event_id']}")).json()
        assert event["deployment_id"] == deployment_id
        interrupted = (await http.get(f"/v1/deployments/{deployment_id}")).json()
        assert interrupted["status"] == "interrupted"
        # And the function is free again: use-remote records what FC runs.
        adopted = await deploy(http, "fragile", BASE_CONFIG, base=1, strategy="use-remote")
        assert adopted.status_code == 201, adopted.text
        assert adopted.json()["revision"]["config"]["timeout"] == 42
        resolved = (await http.get(f"/v1/drift-events/{check['event_id']}")).json()
        assert (resolved["status"], resolved["resolution"]) == ("resolved", "use-remote")


async def test_a_deploy_taking_over_a_dead_claim_marks_it_interrupted(
    settings: Settings, fc: Client, fc_account: str, emulator: EmbeddedEmulator, admin_token: str
) -> None:
    app = create_app(settings.model_copy(update={"deploy_lease_seconds": 2.0}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {admin_token}"},
        ) as http,
    ):
        await die_after_push(http, fc, emulator, "orphan")
        dead = (await http.get("/v1/accounts/local/functions/orphan")).json()["deploying"]
        await asyncio.sleep(2.1)  # the claim's lease runs out; no drift check runs
        adopted = await deploy(http, "orphan", BASE_CONFIG, base=1, strategy="use-remote")
        assert adopted.status_code == 201, adopted.text
        interrupted = (await http.get(f"/v1/deployments/{dead}")).json()
        assert interrupted["status"] == "interrupted"
        assert interrupted["error"]["code"] == "interrupted"

"""A function's identity is (account, name): the same name in a test and a prod account
are two functions with their own revisions, deploys, drift and jobs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

from service.emulator.server import EmbeddedEmulator
from tests.deploys.conftest import BASE_CONFIG, handler_returning, sdk_update, upload
from tests.fc import ACCOUNT_ID, AK, REGION, SK, running_emulator


@pytest.fixture
def prod_emulator(tmp_path: Path) -> Iterator[EmbeddedEmulator]:
    """A second FC (another account), so the same name can live in both."""
    with running_emulator(tmp_path / "prod-fc") as emulator:
        yield emulator


async def _account(client: httpx.AsyncClient, alias: str, emulator: EmbeddedEmulator) -> None:
    response = await client.post(
        "/v1/accounts",
        json={
            "alias": alias,
            "account_id": ACCOUNT_ID,
            "region": REGION,
            "endpoint": emulator.url,
            "access_key_id": AK,
            "access_key_secret": SK,
        },
    )
    assert response.status_code == 201, response.text


async def test_the_same_name_in_two_accounts_is_two_functions(
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    prod_emulator: EmbeddedEmulator,
) -> None:
    await _account(client, "prod", prod_emulator)
    sha = await upload(client, handler_returning("v1"))
    for account, timeout in (("local", 5), ("prod", 50)):
        registered = await client.post(f"/v1/accounts/{account}/functions", json={"name": "same"})
        assert registered.status_code == 201, registered.text
        deployed = await client.post(
            f"/v1/accounts/{account}/functions/same/deployments",
            json={"config": {**BASE_CONFIG, "timeout": timeout}, "code_sha256": sha},
        )
        assert deployed.status_code == 201, deployed.text
        assert deployed.json()["account"] == account
    again = await client.post("/v1/accounts/prod/functions", json={"name": "same"})
    assert again.status_code == 409
    # Independent revisions: a second deploy in prod leaves local at revision 1.
    second = await client.post(
        "/v1/accounts/prod/functions/same/deployments",
        json={"config": {**BASE_CONFIG, "timeout": 51}, "base_revision": 1},
    )
    assert second.status_code == 201, second.text
    local = (await client.get("/v1/accounts/local/functions/same")).json()
    prod = (await client.get("/v1/accounts/prod/functions/same")).json()
    assert (local["head_revision"], prod["head_revision"]) == (1, 2)
    assert local["applied"]["config"]["timeout"] == 5
    assert prod["applied"]["config"]["timeout"] == 51
    listed = (await client.get("/v1/functions")).json()["items"]
    assert [(f["account"], f["name"]) for f in listed] == [("local", "same"), ("prod", "same")]
    only_prod = (await client.get("/v1/functions", params={"account": "prod"})).json()["items"]
    assert [(f["account"], f["name"]) for f in only_prod] == [("prod", "same")]
    # Drift in one account is that account's function's drift only.
    prod_fc = Client(
        Config(
            access_key_id=AK,
            access_key_secret=SK,
            region_id=REGION,
            endpoint=prod_emulator.endpoint,
            protocol="http",
        )
    )
    sdk_update(prod_fc, "same", timeout=99)
    assert (await client.post("/v1/accounts/local/functions/same/drift-check")).json()[
        "drifted"
    ] is False
    drifted = (await client.post("/v1/accounts/prod/functions/same/drift-check")).json()
    assert (drifted["account"], drifted["drifted"]) == ("prod", True)
    events = (await client.get("/v1/drift-events", params={"account": "prod"})).json()["items"]
    assert [(e["account"], e["function"]) for e in events] == [("prod", "same")]
    assert (await client.get("/v1/drift-events", params={"account": "local"})).json()["items"] == []
    # Jobs name their account too.
    job = await client.post(
        "/v1/jobs",
        json={
            "kind": "eval-spec",
            "account": "prod",
            "function": "same",
            "params": {"invocations": 1, "specs": [{"cpu": 0.25, "memorySize": 512}]},
        },
    )
    assert job.status_code == 202, job.text
    assert (job.json()["account"], job.json()["function"]) == ("prod", "same")
    jobs = (await client.get("/v1/jobs", params={"account": "local"})).json()["items"]
    assert jobs == []
    await client.post(f"/v1/jobs/{job.json()['id']}/cancel")

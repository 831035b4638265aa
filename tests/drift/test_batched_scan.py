"""A scan records its checks in batches: each function still gets its own outcome."""

from __future__ import annotations

import httpx
import pytest
from alibabacloud_fc20230330.client import Client

from service.drift import service as drift_service
from tests.deploys.conftest import first_deploy, sdk_update


async def test_batched_scan_opens_keeps_and_resolves_events(
    client: httpx.AsyncClient, fc: Client, fc_account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drift_service, "RECORD_BATCH", 2)
    names = [f"fn{i}" for i in range(7)]
    for name in names:
        await first_deploy(client, name)
    sdk_update(fc, "fn1", timeout=31)
    sdk_update(fc, "fn4", description="console edit")
    fc.delete_function("fn5")
    first = (await client.post("/v1/drift-checks")).json()
    assert first == {"checked": 7, "drifted": ["local/fn1", "local/fn4", "local/fn5"], "failed": {}}
    statuses = {
        f["name"]: f["drift_status"] for f in (await client.get("/v1/functions")).json()["items"]
    }
    assert statuses == {
        "fn0": "in_sync",
        "fn1": "drifted",
        "fn2": "in_sync",
        "fn3": "in_sync",
        "fn4": "drifted",
        "fn5": "missing",
        "fn6": "in_sync",
    }
    opened = (await client.get("/v1/drift-events", params={"status": "open"})).json()["items"]
    assert sorted((e["function"], e["changes"][0]["path"]) for e in opened) == [
        ("fn1", "/timeout"),
        ("fn4", "/description"),
        ("fn5", "/code"),
    ]

    # fn1 goes back by hand, fn4 drifts further: one event each, updated or resolved.
    sdk_update(fc, "fn1", timeout=3)
    sdk_update(fc, "fn4", description="another edit")
    second = (await client.post("/v1/drift-checks")).json()
    assert second == {"checked": 7, "drifted": ["local/fn4", "local/fn5"], "failed": {}}
    events = (await client.get("/v1/drift-events")).json()["items"]
    by_function = {e["function"]: e for e in events}
    assert len(events) == 3
    assert (by_function["fn1"]["status"], by_function["fn1"]["resolution"]) == (
        "resolved",
        "in-sync",
    )
    assert by_function["fn4"]["status"] == "open"
    assert by_function["fn4"]["changes"] == [
        {"path": "/description", "base": "", "value": "another edit"}
    ]

"""Listing deployments costs the same few queries however many deployments a page holds."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from tests.deploys.conftest import BASE_CONFIG, deploy, first_deploy


async def _statements(app: FastAPI, client: httpx.AsyncClient, url: str) -> tuple[int, Any]:
    engine = app.state.fcplane.db.engine.sync_engine
    seen: list[str] = []

    def count(*args: Any) -> None:
        # Authentication reads the token again whenever the 5 s token cache has
        # expired, which a slow machine may hit between the two listings.
        if "api_tokens" not in args[2]:
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = await client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    return len(seen), response.json()


async def test_listing_deployments_is_not_one_query_per_item(
    app: FastAPI, client: httpx.AsyncClient, fc_account: str
) -> None:
    await first_deploy(client, "listed")
    few, one = await _statements(app, client, "/v1/accounts/local/functions/listed/deployments")
    assert len(one["items"]) == 1
    for i in range(5):
        response = await deploy(client, "listed", {**BASE_CONFIG, "timeout": 10 + i}, base=i + 1)
        assert response.status_code == 201, response.text
    refused = await deploy(client, "listed", BASE_CONFIG, base=1)
    assert refused.status_code == 409

    many, page = await _statements(app, client, "/v1/accounts/local/functions/listed/deployments")
    assert many == few
    items = page["items"]
    assert [d["status"] for d in items] == ["conflict"] + ["succeeded"] * 6
    assert {d["function"] for d in items} == {"listed"}
    assert items[0]["revision"] is None
    assert [d["revision"]["number"] for d in items[1:]] == [6, 5, 4, 3, 2, 1]
    assert [d["revision"]["config"]["timeout"] for d in items[1:6]] == [14, 13, 12, 11, 10]
    one_by_one = [(await client.get(f"/v1/deployments/{d['id']}")).json() for d in items]
    assert one_by_one == items

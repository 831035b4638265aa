from __future__ import annotations

import httpx


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "not_found"
    wrong = await client.put("/v1/accounts")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


async def test_malformed_json_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/accounts", content=b'{"alias": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    not_object = await client.post("/v1/tokens", json=["read"])
    assert not_object.status_code == 422


async def test_out_of_range_path_and_query_values(client: httpx.AsyncClient) -> None:
    assert (await client.delete("/v1/tokens/0")).status_code == 422
    assert (await client.delete("/v1/tokens/99999999999999999999")).status_code == 422
    too_many = await client.get("/v1/accounts", params={"limit": 10_000})
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "limit"


async def test_unknown_query_parameters_are_named(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/accounts", params={"limt": 5, "limit": 5})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["limt"]

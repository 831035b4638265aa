from __future__ import annotations

import httpx
import pytest

from service.kit.strict_route import json_depth


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "not_found"
    wrong = await client.put("/v1/accounts")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


async def test_malformed_json_is_422_with_line_and_column(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/accounts",
        content=b'{\n  "alias": "a",\n  "region": }',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["field"] == "body"
    assert problem["detail"] == "body is not valid JSON: Expecting value at line 3 column 13"
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("body", "json_invalid")]
    cut_short = await client.post(
        "/v1/accounts", content=b'{"alias": ', headers={"content-type": "application/json"}
    )
    assert cut_short.status_code == 422
    assert cut_short.json()["detail"].endswith("at line 1 column 11")
    not_text = await client.post(
        "/v1/tokens", content=b'{"name": "\xff"}', headers={"content-type": "application/json"}
    )
    assert not_text.status_code == 422
    assert not_text.json()["detail"].startswith("body is not valid JSON: not UTF-8")
    not_object = await client.post("/v1/tokens", json=["read"])
    assert not_object.status_code == 422


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_json_body_not_sent_as_json_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    request = client.build_request(
        "POST", "/v1/tokens", content=b'{"name": "ci", "scopes": ["read"]}', headers=headers
    )
    assert request.headers.get("content-type") == content_type  # None: none sent
    response = await client.send(request)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "unsupported_media_type"
    assert problem["expected"] == "application/json"
    assert "Content-Type: application/json" in problem["detail"]
    # A +json type and parameters are JSON too.
    fine = await client.post(
        "/v1/tokens",
        content=b'{"name": "ci", "scopes": ["read"]}',
        headers={"content-type": "application/merge-patch+json; charset=utf-8"},
    )
    assert fine.status_code == 201, fine.text


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


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("depth", [33, 600, 100_000])
async def test_a_body_nested_too_deeply_is_refused_not_a_500(
    client: httpx.AsyncClient, depth: int
) -> None:
    # Deep inside a free-form config block, where nothing else limits the shape.
    body = (
        b'{"base_revision": 0, "config": {"runtime": "python3.10", "handler": "i.h", '
        b'"vpcConfig": ' + _nested(depth - 2) + b"}}"
    )
    response = await client.post(
        "/v1/accounts/local/functions/deep/deployments",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"] == [
        {
            "field": "body",
            "location": "body",
            "message": "nested deeper than 32 levels of arrays and objects",
            "type": "too_deep",
        }
    ]


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": "]]]}"}]}') == 3
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(_nested(32)) == 32

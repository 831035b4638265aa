from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import token_with

SECRET = "s3cr3t-Value-that-must-never-leak-9f8e7d"
STS = "sts-token-that-must-never-leak-1a2b3c"


def account(alias: str = "prod", **overrides: Any) -> dict[str, Any]:
    body = {
        "alias": alias,
        "account_id": "1234567890123456",
        "region": "cn-hangzhou",
        "access_key_id": "LTAI5tExampleKeyId42",
        "access_key_secret": SECRET,
    }
    return {**body, **overrides}


async def test_create_masks_key_and_never_returns_secrets(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/accounts", json=account(security_token=STS))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["alias"] == "prod"
    assert body["access_key_id"] == "LTAI****Id42"
    assert body["has_security_token"] is True
    assert body["endpoint"] == "https://1234567890123456.cn-hangzhou.fc.aliyuncs.com"
    assert "access_key_secret" not in body
    assert "security_token" not in body
    for call in (client.get("/v1/accounts"), client.get("/v1/accounts/prod")):
        text_body = (await call).text
        assert SECRET not in text_body
        assert STS not in text_body
        assert "LTAI5tExampleKeyId42" not in text_body


async def test_local_endpoint_is_kept_with_its_scheme(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/accounts", json=account(alias="local", endpoint="http://127.0.0.1:9000")
    )
    assert response.status_code == 201, response.text
    assert response.json()["endpoint"] == "http://127.0.0.1:9000"
    bare = await client.post("/v1/accounts", json=account(alias="bare", endpoint="fc.example:8443"))
    assert bare.json()["endpoint"] == "https://fc.example:8443"
    # An internationalised name is stored in its ASCII (IDNA) form; IPv6 in brackets.
    idn = await client.post(
        "/v1/accounts", json=account(alias="idn", endpoint="https://münchen.de")
    )
    assert idn.json()["endpoint"] == "https://xn--mnchen-3ya.de"
    v6 = await client.post("/v1/accounts", json=account(alias="v6", endpoint="http://[::1]:9000"))
    assert v6.json()["endpoint"] == "http://[::1]:9000"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("endpoint", "ftp://host"),
        ("endpoint", "http://host/path"),
        ("endpoint", "http://user:pw@host"),
        ("endpoint", "http://host:99999"),
        # Hosts that would be stored and then make every FC call fail with 502.
        ("endpoint", "https://☃☃.example"),
        ("endpoint", "https://-bad-.example"),
        ("endpoint", "https://" + "a" * 64 + ".example"),
        ("endpoint", "https://exa mple.com"),
        ("endpoint", "https://under_score.example"),
        ("endpoint", "https://a..b"),
        ("region", "Hangzhou"),
        ("account_id", "abc"),
        ("alias", "Bad Alias"),
        ("access_key_secret", ""),
    ],
)
async def test_invalid_fields_are_named(client: httpx.AsyncClient, field: str, value: str) -> None:
    response = await client.post("/v1/accounts", json=account(**{field: value}))
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_every_bad_field_is_reported_and_unknown_fields_rejected(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/accounts",
        json={"alias": "x", "region": "nowhere", "secret_sauce": 1, "access_key_secret": SECRET},
    )
    assert response.status_code == 422
    problem = response.json()
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"region", "secret_sauce", "account_id", "access_key_id"}
    assert SECRET not in response.text


async def test_duplicate_alias_is_409(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1/accounts", json=account())).status_code == 201
    again = await client.post("/v1/accounts", json=account())
    assert again.status_code == 409
    assert again.json()["code"] == "already_exists"
    renamed = await client.post("/v1/accounts", json=account(alias="other"))
    clash = await client.patch("/v1/accounts/other", json={"alias": "prod"})
    assert renamed.status_code == 201
    assert clash.status_code == 409


async def test_only_one_default_account(client: httpx.AsyncClient) -> None:
    await client.post("/v1/accounts", json=account("a", default=True))
    await client.post("/v1/accounts", json=account("b", default=True))
    defaults = [
        a["alias"] for a in (await client.get("/v1/accounts")).json()["items"] if a["default"]
    ]
    assert defaults == ["b"]
    await client.patch("/v1/accounts/a", json={"default": True})
    defaults = [
        a["alias"] for a in (await client.get("/v1/accounts")).json()["items"] if a["default"]
    ]
    assert defaults == ["a"]


async def test_patch_changes_only_given_fields_and_clears_sts(client: httpx.AsyncClient) -> None:
    await client.post("/v1/accounts", json=account(security_token=STS))
    response = await client.patch(
        "/v1/accounts/prod", json={"region": "cn-shanghai", "security_token": None}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["region"] == "cn-shanghai"
    assert body["account_id"] == "1234567890123456"
    assert body["has_security_token"] is False
    missing = await client.patch("/v1/accounts/nope", json={"region": "cn-shanghai"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


async def test_delete_refused_while_functions_use_it(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await client.post("/v1/accounts", json=account())
    async with engine.begin() as conn:
        account_pk = (await conn.execute(text("SELECT id FROM accounts"))).scalar_one()
        for name in ("resize", "hello"):
            await conn.execute(
                text(
                    "INSERT INTO functions (name, account_id, created_at) "
                    "VALUES (:n, :a, CURRENT_TIMESTAMP)"
                ),
                {"n": name, "a": account_pk},
            )
    refused = await client.delete("/v1/accounts/prod")
    assert refused.status_code == 409
    assert refused.json()["code"] == "in_use"
    assert refused.json()["functions"] == ["hello", "resize"]
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM functions"))
    assert (await client.delete("/v1/accounts/prod")).status_code == 204
    assert (await client.get("/v1/accounts/prod")).status_code == 404


async def test_pagination_walks_every_account_once(client: httpx.AsyncClient) -> None:
    aliases = [f"acct-{i:02d}" for i in range(7)]
    for alias in reversed(aliases):
        await client.post("/v1/accounts", json=account(alias))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/accounts", params=params)).json()
        seen += [a["alias"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == aliases
    bad = await client.get("/v1/accounts", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "cursor"
    assert bad.json()["code"] == "invalid_cursor"


async def test_list_items_match_single_reads(client: httpx.AsyncClient) -> None:
    # The list reads plain rows, a single read loads the entity: same content.
    await client.post("/v1/accounts", json=account("a-sts", security_token=STS, default=True))
    await client.post("/v1/accounts", json=account("b-plain"))
    listed = (await client.get("/v1/accounts")).json()["items"]
    singles = [(await client.get(f"/v1/accounts/{a['alias']}")).json() for a in listed]
    assert listed == singles
    flags = [(a["has_security_token"], a["default"]) for a in listed]
    assert flags == [(True, True), (False, False)]


async def test_scopes_guard_accounts(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    reader = await token_with(client, "read", name="reader")
    deployer = await token_with(client, "deploy", name="deployer")
    await client.post("/v1/accounts", json=account())
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert (await anonymous.get("/v1/accounts", headers=as_reader)).status_code == 200
    denied = await anonymous.post("/v1/accounts", json=account("x"), headers=as_reader)
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"
    as_deployer = {"Authorization": f"Bearer {deployer}"}
    assert (await anonymous.delete("/v1/accounts/prod", headers=as_deployer)).status_code == 403

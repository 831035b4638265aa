from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.auth.tokens import hash_token
from service.kit.settings import Settings
from service.models import ApiToken
from tests.conftest import token_with


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_create_shows_token_once_and_stores_only_its_hash(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    response = await client.post(
        "/v1/tokens", json={"name": "ci", "scopes": ["deploy"], "expires_in": 3600}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/tokens/{body['id']}"
    token = body["token"]
    assert token.startswith("fcp_")
    assert len(base64.urlsafe_b64decode(token[4:] + "=")) * 8 >= 256
    assert body["scopes"] == ["deploy"]
    assert body["created_by"] == "bootstrap"
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)

    listed = (await client.get("/v1/tokens")).json()["items"]
    assert {t["name"] for t in listed} == {"bootstrap", "ci"}
    assert all("token" not in t for t in listed)
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT * FROM api_tokens"))).all()
    assert token not in repr(stored)
    assert hash_token(token) in repr(stored)


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "missing"),
        ("Basic dXNlcjpwYXNz", "malformed"),
        ("Bearer", "malformed"),
        ("Bearer short", "malformed"),
        ("Bearer " + "x" * 40 + " extra", "malformed"),
        ("Bearer fcp_" + "A" * 43, "unknown"),
    ],
)
async def test_bad_credentials_are_401_problems(
    anonymous: httpx.AsyncClient, header: str | None, detail: str
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await anonymous.get("/v1/accounts", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert problem["code"] == "unauthenticated"
    assert detail in problem["detail"]


async def test_revoked_token_stops_working(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    token = await token_with(client, "read", name="temp")
    assert (await anonymous.get("/v1/accounts", headers=_as(token))).status_code == 200
    token_id = next(
        t["id"] for t in (await client.get("/v1/tokens")).json()["items"] if t["name"] == "temp"
    )
    assert (await client.delete(f"/v1/tokens/{token_id}")).status_code == 204
    response = await anonymous.get("/v1/accounts", headers=_as(token))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert (await client.delete(f"/v1/tokens/{token_id}")).status_code == 404
    assert all(t["id"] != token_id for t in (await client.get("/v1/tokens")).json()["items"])


async def test_expired_token_is_401(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    token = await token_with(client, "admin", name="short-lived")
    async with engine.begin() as conn:
        await conn.execute(
            update(ApiToken)
            .where(ApiToken.name == "short-lived")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = await anonymous.get("/v1/tokens", headers=_as(token))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_scope_hierarchy(client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    reader = await token_with(client, "read", name="reader")
    deployer = await token_with(client, "deploy", name="deployer")
    for token in (reader, deployer):
        denied = await anonymous.post(
            "/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers=_as(token)
        )
        assert denied.status_code == 403
        assert denied.json()["required_scope"] == "admin"
        assert (await anonymous.get("/v1/tokens", headers=_as(token))).status_code == 403
        assert (await anonymous.get("/v1/accounts", headers=_as(token))).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["root"]}, "scopes.0"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "expires_in": 0}, "expires_in"),
        ({"name": "x", "scopes": ["read"], "owner": "me"}, "owner"),
    ],
)
async def test_invalid_token_requests(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/tokens", json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_first_start_prints_a_generated_admin_token_once(
    database_url: str, tmp_path: object, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path, secret_key="k3Yq-" + "z" * 40)

    async def start() -> tuple[str, FastAPI]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            printed = capfd.readouterr().err
            return printed, app

    printed, app = await start()
    token = next(line.strip() for line in printed.splitlines() if line.strip().startswith("fcp_"))
    again, _ = await start()
    assert "fcp_" not in again
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.get("/v1/tokens", headers=_as(token))
    assert response.status_code == 200
    assert [t["name"] for t in response.json()["items"]] == ["bootstrap"]
    assert response.json()["items"][0]["scopes"] == ["admin"]

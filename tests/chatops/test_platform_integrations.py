"""/v1/chat-integrations and their user mappings: secrets go in and never come out."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from service.kit.settings import Settings
from tests.chatops import support
from tests.conftest import token_with


@pytest.fixture
def settings(database_url: str, tmp_path: Path, admin_token: str) -> Settings:
    return support.fast_settings(database_url, tmp_path, admin_token)


async def test_crud_never_returns_secrets(client: httpx.AsyncClient) -> None:
    created = await support.integration(
        client,
        name="ops-feishu",
        platform="feishu",
        secret="encrypt-key-SECRET-1",
        verification_token="verify-TOKEN-2",
        app_id="cli_1",
        app_secret="app-SECRET-3",
        channels=["oc_ops"],
    )
    listed = await client.get("/v1/chat-integrations")
    got = await client.get(f"/v1/chat-integrations/{created['id']}")
    for text in (str(created), listed.text, got.text):
        for secret in ("encrypt-key-SECRET-1", "verify-TOKEN-2", "app-SECRET-3"):
            assert secret not in text
    body = got.json()
    assert body["has_secret"]
    assert body["has_verification_token"]
    assert body["has_app_secret"]
    assert body["inbound_urls"] == [f"{support.PUBLIC_URL}/v1/chat/feishu/ops-feishu"]
    assert body["default_scope"] == "read"
    assert body["require_second_approver"] is True

    patched = await client.patch(
        f"/v1/chat-integrations/{created['id']}",
        json={"enabled": False, "channels": None, "default_scope": None},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["enabled"] is False
    assert patched.json()["channels"] is None
    assert patched.json()["default_scope"] is None

    assert (await client.delete(f"/v1/chat-integrations/{created['id']}")).status_code == 204
    gone = await client.get(f"/v1/chat-integrations/{created['id']}")
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"


async def test_slack_urls_and_duplicate_names(client: httpx.AsyncClient) -> None:
    created = await support.integration(client, name="ops", platform="slack", secret="s3cr3t")
    assert created["inbound_urls"] == [
        f"{support.PUBLIC_URL}/v1/chat/slack/ops/commands",
        f"{support.PUBLIC_URL}/v1/chat/slack/ops/interactions",
    ]
    again = await client.post(
        "/v1/chat-integrations", json={"name": "ops", "platform": "dingtalk", "secret": "x"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_exists"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "slack", "app_id": "cli_1"}, "app_id"),
        ({"platform": "dingtalk", "verification_token": "t"}, "verification_token"),
        ({"platform": "feishu"}, "verification_token"),
        ({"platform": "feishu", "verification_token": "t", "app_id": "cli_1"}, "app_secret"),
        ({"platform": "teams"}, "platform"),
        ({"platform": "slack", "name": "Bad Name"}, "name"),
        ({"platform": "slack", "api_base_url": "ftp://x"}, "api_base_url"),
    ],
)
async def test_invalid_integrations_name_the_field(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    response = await client.post("/v1/chat-integrations", json={"name": "x", "secret": "s", **body})
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_user_mappings(client: httpx.AsyncClient) -> None:
    created = await support.integration(client, name="ops", platform="slack", secret="s")
    base = f"/v1/chat-integrations/{created['id']}/users"
    first = await client.put(f"{base}/U1ALICE", json={"scope": "deploy", "display_name": "alice"})
    assert first.status_code == 201
    assert first.headers["location"] == f"{base}/U1ALICE"
    changed = await client.put(f"{base}/U1ALICE", json={"scope": "admin"})
    assert changed.status_code == 200
    assert changed.json()["scope"] == "admin"
    await client.put(f"{base}/U2BOB", json={"scope": "read"})
    page = (await client.get(f"{base}?limit=1")).json()
    assert [u["platform_user_id"] for u in page["items"]] == ["U1ALICE"]
    rest = (await client.get(f"{base}?cursor={page['next_cursor']}")).json()
    assert [u["platform_user_id"] for u in rest["items"]] == ["U2BOB"]
    assert (await client.delete(f"{base}/U2BOB")).status_code == 204
    assert (await client.delete(f"{base}/U2BOB")).status_code == 404
    bad = await client.put(f"{base}/U3", json={"scope": "root"})
    assert bad.status_code == 422
    assert (await client.get("/v1/chat-integrations/999/users")).status_code == 404


async def test_integrations_need_admin(client: httpx.AsyncClient, app: object) -> None:
    deploy = await token_with(client, "deploy")
    response = await client.get(
        "/v1/chat-integrations", headers={"Authorization": f"Bearer {deploy}"}
    )
    assert response.status_code == 403

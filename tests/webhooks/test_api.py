"""/v1/webhooks: subscriptions, secrets shown once and sealed at rest, URL safety."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.models import WebhookSubscription
from tests.conftest import token_with
from tests.webhooks.conftest import subscribe
from tests.webhooks.receiver import Receiver


async def test_create_shows_the_secret_once(client: httpx.AsyncClient, receiver: Receiver) -> None:
    created = await subscribe(client, receiver.url, functions=["hello"])
    assert created["secret"].startswith("whsec_")
    assert created["format"] == "standard"
    assert created["events"] == ["deploy.succeeded", "drift.opened"]
    assert created["functions"] == ["hello"]
    assert created["active"] is True
    assert created["has_secret"] is True
    shown = await client.get(f"/v1/webhooks/{created['id']}")
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = await client.get("/v1/webhooks")
    assert [w["id"] for w in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]


async def test_url_and_secrets_are_sealed_at_rest(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=tok3n-value"
    created = await subscribe(client, url, format="dingtalk", secret="SECrobot-secret-value")
    assert created["secret"] is None  # the robot's secret came from the client
    assert created["url"] == "https://oapi.dingtalk.com/robot/send?access_token=%2A%2A%2A"
    standard = await subscribe(client, "https://hooks.example.com/in?key=abc")
    async with engine.connect() as conn:
        rows = (await conn.execute(select(WebhookSubscription))).all()
    dump = repr(rows)
    for secret in ("tok3n-value", "SECrobot-secret-value", standard["secret"], "key=abc"):
        assert secret not in dump


async def test_robot_tokens_in_the_path_are_masked(client: httpx.AsyncClient) -> None:
    slack = await subscribe(
        client, "https://hooks.slack.com/services/T000/B000/XXXXsecret", format="slack"
    )
    assert slack["url"] == "https://hooks.slack.com/services/T000/B000/***"
    feishu = await subscribe(
        client, "https://open.feishu.cn/open-apis/bot/v2/hook/abc-123", format="feishu"
    )
    assert feishu["url"] == "https://open.feishu.cn/open-apis/bot/v2/hook/***"


async def test_slack_refuses_a_secret(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/webhooks",
        json={
            "url": "https://hooks.slack.com/services/T/B/X",
            "events": ["deploy.failed"],
            "format": "slack",
            "secret": "nope",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "secret"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://192.168.0.10:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8000/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
    ],
)
async def test_private_destinations_are_refused(client: httpx.AsyncClient, url: str) -> None:
    response = await client.post("/v1/webhooks", json={"url": url, "events": ["deploy.failed"]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "destination_not_allowed"
    assert body["errors"][0]["field"] == "url"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "https://user:pw@example.com/hook",
        "https:///nohost",
        "https://example.com/ho ok",
        "https://example.com:99999/",
        "https://example.com/#frag",
    ],
)
async def test_malformed_urls_are_refused(client: httpx.AsyncClient, url: str) -> None:
    response = await client.post("/v1/webhooks", json={"url": url, "events": ["deploy.failed"]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["url"]
    assert "pw" not in response.text


async def test_bad_standard_secret_is_refused(client: httpx.AsyncClient) -> None:
    for secret in ("plain", "whsec_!!!", "whsec_c2hvcnQ="):
        response = await client.post(
            "/v1/webhooks",
            json={"url": "https://example.com/h", "events": ["deploy.failed"], "secret": secret},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "secret"
        assert secret not in response.text


async def test_patch_list_delete(client: httpx.AsyncClient, receiver: Receiver) -> None:
    ids = [(await subscribe(client, receiver.url))["id"] for _ in range(3)]
    page = await client.get("/v1/webhooks", params={"limit": 2})
    assert [w["id"] for w in page.json()["items"]] == ids[:2]
    rest = await client.get("/v1/webhooks", params={"cursor": page.json()["next_cursor"]})
    assert [w["id"] for w in rest.json()["items"]] == ids[2:]
    patched = await client.patch(
        f"/v1/webhooks/{ids[0]}", json={"events": ["job.finished"], "functions": ["a", "b"]}
    )
    assert patched.status_code == 200
    assert patched.json()["events"] == ["job.finished"]
    assert patched.json()["functions"] == ["a", "b"]
    cleared = await client.patch(f"/v1/webhooks/{ids[0]}", json={"functions": None})
    assert cleared.json()["functions"] is None
    paused = await client.patch(f"/v1/webhooks/{ids[0]}", json={"active": False})
    assert paused.json()["active"] is False
    assert (await client.patch(f"/v1/webhooks/{ids[0]}", json={"secret": "x"})).status_code == 422
    assert (await client.delete(f"/v1/webhooks/{ids[0]}")).status_code == 204
    assert (await client.get(f"/v1/webhooks/{ids[0]}")).status_code == 404
    assert (await client.delete(f"/v1/webhooks/{ids[0]}")).status_code == 404


async def test_unknown_event_types_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/webhooks", json={"url": "https://example.com/h", "events": ["deploy.exploded"]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("events")


async def test_reading_needs_read_and_changing_needs_admin(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await subscribe(client, receiver.url)
    for scope in ("read", "deploy"):
        headers = {"Authorization": f"Bearer {await token_with(client, scope)}"}
        assert (await client.get("/v1/webhooks", headers=headers)).status_code == 200
        for path in (f"/v1/webhooks/{created['id']}/test", "/v1/webhooks"):
            response = await client.post(path, headers=headers, json={})
            assert response.status_code == 403

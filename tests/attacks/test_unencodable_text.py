"""JSON may carry a lone UTF-16 surrogate (`"\\ud800"`): valid JSON, but text no UTF-8
encoder takes. fcplane must refuse it as invalid input, never fail with a 500.

The app runs with ``raise_app_exceptions=False`` so a crash shows as the 500 a real
client would get."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from service.chatops import delivery
from tests.attacks.conftest import assert_clean, assert_problem, secrets_of
from tests.chatops import support
from tests.invocations.test_invoke import deploy_echo

FN = "/v1/accounts/local/functions"
LONE_SURROGATE = b'"\\ud800"'


@pytest.fixture
async def raw(app: FastAPI, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://fcplane.test",
        headers={"Authorization": f"Bearer {admin_token}", "content-type": "application/json"},
    ) as http:
        yield http


async def test_a_lone_surrogate_in_the_invoke_payload_is_422(
    raw: httpx.AsyncClient, client: httpx.AsyncClient, fc_account: str, admin_token: str
) -> None:
    await deploy_echo(client, "echo")
    response = await raw.post(f"{FN}/echo/invoke", content=b'{"payload": ' + LONE_SURROGATE + b"}")
    problem = assert_problem(response, 422, secrets_of(admin_token))
    assert problem.get("field") == "payload" or "payload" in str(problem.get("errors")), problem


async def test_a_lone_surrogate_elsewhere_is_never_a_500(
    raw: httpx.AsyncClient, client: httpx.AsyncClient, fc_account: str, admin_token: str
) -> None:
    await deploy_echo(client, "echo")
    secrets = secrets_of(admin_token)
    s = LONE_SURROGATE
    probes = [
        ("/v1/accounts/local/functions/echo/invoke", b'{"headers": {"x-a": ' + s + b"}}"),
        ("/v1/accounts/local/functions/echo/invoke", b'{"async_task_id": ' + s + b"}"),
        ("/v1/tokens", b'{"name": ' + s + b', "scopes": ["read"]}'),
        ("/v1/chat-integrations", b'{"name": ' + s + b', "platform": "slack", "secret": "s"}'),
        ("/v1/jobs", b'{"kind": ' + s + b', "function": "echo", "params": {}}'),
    ]
    for path, body in probes:
        response = await raw.post(path, content=body)
        assert response.status_code < 500, (path, response.status_code, response.text[:500])
        assert_clean(response, secrets)
    # Invalid UTF-8 in a query string.
    for path in (f"{FN}/echo/logs?query=%ED%A0%80", f"{FN}/echo/metrics?from=%FF%FE"):
        response = await raw.get(path)
        assert response.status_code < 500, (path, response.status_code, response.text[:500])
        assert_clean(response, secrets)


async def test_a_lone_surrogate_in_a_chat_secret_is_422(
    raw: httpx.AsyncClient, admin_token: str
) -> None:
    body = b'{"name": "x", "platform": "slack", "secret": ' + LONE_SURROGATE + b"}"
    response = await raw.post("/v1/chat-integrations", content=body)
    problem = assert_problem(response, 422, secrets_of(admin_token))
    assert "secret" in str(problem), problem


async def test_a_lone_surrogate_in_a_patched_chat_secret_is_422(
    raw: httpx.AsyncClient, client: httpx.AsyncClient, admin_token: str
) -> None:
    created = await support.integration(
        client, name="ops", platform="slack", secret=support.SLACK_SECRET
    )
    response = await raw.patch(
        f"/v1/chat-integrations/{created['id']}",
        content=b'{"secret": ' + LONE_SURROGATE + b"}",
    )
    problem = assert_problem(response, 422, secrets_of(admin_token))
    assert "secret" in str(problem), problem


async def test_a_non_latin1_chat_user_id_is_created_or_refused(
    raw: httpx.AsyncClient, client: httpx.AsyncClient, admin_token: str
) -> None:
    created = await support.integration(
        client, name="ops", platform="slack", secret=support.SLACK_SECRET
    )
    response = await raw.put(
        f"/v1/chat-integrations/{created['id']}/users/{quote('用户')}",
        content=json.dumps({"scope": "read"}).encode(),
    )
    assert response.status_code in (200, 201, 422), (response.status_code, response.text[:500])
    assert_clean(response, secrets_of(admin_token))


async def test_a_signed_chat_message_with_a_lone_surrogate_is_audited_or_refused(
    raw: httpx.AsyncClient, client: httpx.AsyncClient, admin_token: str
) -> None:
    await support.integration(
        client, name="ding", platform="dingtalk", secret=support.DINGTALK_SECRET
    )
    body = support.dingtalk_body("help", "https://oapi.dingtalk.com/robot/x")
    body = body.replace(b'" help"', b'"' + LONE_SURROGATE[1:-1] + b' help"')
    response = await raw.post(
        "/v1/chat/dingtalk/ding", content=body, headers=support.dingtalk_headers()
    )
    assert response.status_code < 500, response.text[:500]
    assert_clean(response, secrets_of(admin_token))
    if response.status_code == 200:  # answered: then it must be on the audit trail
        await delivery.pending()  # DingTalk commands run after the acknowledgement
        events = await client.get("/v1/chat-events")
        assert events.status_code == 200
        # The command's own record (the reply's failure to reach DingTalk is another).
        commands = [
            e
            for e in events.json()["items"]
            if not (e["detail"] or "").startswith("reply not delivered")
        ]
        assert len(commands) == 1, events.text
        assert commands[0]["command"] == "? help"  # the surrogate replaced, not dropped

"""Invoking through fcplane's API: the function runs on the emulator (through the official
SDK), its answer, FC's figures and log tail come back, and every call is audited."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client

from service.invocations.service import ASYNC_PAYLOAD_LIMIT
from tests.conftest import token_with
from tests.deploys.conftest import BASE_CONFIG, deploy, make_zip, upload

FN = "/v1/accounts/local/functions"

HANDLER = """\
import json
import time


def handler(event, context):
    print("handling %d bytes as %s" % (len(event), context.request_id))
    if event == b"boom":
        raise ValueError("boom requested")
    if event.startswith(b"sleep"):
        time.sleep(float(event[5:] or 5))
        return "slept"
    if event[:1] == b"\\xff":
        return bytes(reversed(event))
    try:
        data = json.loads(event) if event else None
    except ValueError:
        return "text:" + event.decode("utf-8", "replace")
    return json.dumps({"echo": data, "version": VERSION})
"""


async def deploy_echo(client: httpx.AsyncClient, name: str, version: str = "v1") -> None:
    """Register and deploy the echo handler (``VERSION`` set to ``version``)."""
    source = HANDLER.replace("VERSION}", f"{version!r}}}")
    sha = await upload(client, make_zip(source))
    registered = await client.post(f"{FN}", json={"name": name})
    assert registered.status_code in (201, 409), registered.text
    head = (await client.get(f"{FN}/{name}")).json()["head_revision"]
    response = await deploy(
        client,
        name,
        {**BASE_CONFIG, "timeout": 20},
        head or None,
        code_sha256=sha,
    )
    assert response.status_code == 201, response.text


async def invoke(client: httpx.AsyncClient, name: str, **body: Any) -> httpx.Response:
    return await client.post(f"{FN}/{name}/invoke", json=body)


async def test_sync_json_payload_returns_answer_figures_and_log_tail(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await deploy_echo(client, "echo")
    response = await invoke(client, "echo", payload={"n": 1, "ü": ["x"]})
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["mode"] == "sync"
    assert out["qualifier"] == "LATEST"
    assert out["status_code"] == 200
    assert out["response_format"] == "json"
    assert out["response"] == {"echo": {"n": 1, "ü": ["x"]}, "version": "v1"}
    assert out["function_error"] is None
    assert out["fc_request_id"]
    assert out["served_version"] == "LATEST"
    assert out["duration_ms"] is not None
    assert out["duration_ms"] >= 0
    assert out["max_memory_mb"] is not None
    assert out["max_memory_mb"] > 0
    assert out["instance_id"]
    # The log tail is decoded text: the handler's own line, with FC's request id in it.
    assert f"as {out['fc_request_id']}" in out["log"]
    assert "Billed Duration" in out["log"]
    assert isinstance(out["billed_duration_ms"], int)


async def test_bytes_payload_and_binary_or_text_answers(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await deploy_echo(client, "raw")
    binary = b"\xff\x00\x01\xfe"
    response = await invoke(client, "raw", payload_base64=base64.b64encode(binary).decode())
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["response_format"] == "binary"
    assert base64.b64decode(out["response_base64"]) == bytes(reversed(binary))
    assert out["response_text"] is None
    text = await invoke(client, "raw", payload_base64=base64.b64encode(b"hi there").decode())
    body = text.json()
    assert (body["response_format"], body["response_text"]) == ("text", "text:hi there")
    assert base64.b64decode(body["response_base64"]) == b"text:hi there"
    empty = await invoke(client, "raw", log_tail=False)
    assert empty.json()["response"] == {"echo": None, "version": "v1"}
    assert empty.json()["log"] is None


async def test_a_function_error_is_an_answer_not_an_fcplane_error(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await deploy_echo(client, "failing")
    response = await invoke(client, "failing", payload_base64=base64.b64encode(b"boom").decode())
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["function_error"] == "UnhandledInvocationError"
    assert out["response"]["errorType"] == "ValueError"
    assert "boom requested" in out["response"]["errorMessage"]
    assert "boom requested" in out["log"]
    audit = (await client.get(f"{FN}/failing/invocations")).json()["items"]
    assert audit[0]["outcome"] == "function_error"


async def test_qualifier_runs_the_published_version_behind_an_alias(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await deploy_echo(client, "released", "v1")
    published = await client.post(f"{FN}/released/versions", json={"description": "one"})
    assert published.status_code == 201, published.text
    version = published.json()["version_id"]
    alias = await client.put(
        f"{FN}/released/aliases/prod", json={"version_id": version, "base_revision": 0}
    )
    assert alias.status_code == 200, alias.text
    await deploy_echo(client, "released", "v2")  # LATEST moves on; prod stays on v1
    for qualifier, expected, served in (
        ("prod", "v1", version),  # FC names the version the alias routed to
        (version, "v1", version),
        (None, "v2", "LATEST"),
    ):
        body: dict[str, Any] = {"payload": 1}
        if qualifier:
            body["qualifier"] = qualifier
        out = (await invoke(client, "released", **body)).json()
        assert out["response"]["version"] == expected, out
        assert out["served_version"] == served
        assert out["qualifier"] == (qualifier or "LATEST")
    missing = await invoke(client, "released", qualifier="nope")
    assert missing.status_code == 404, missing.text
    assert missing.json()["code"] == "fc_not_found"


async def _wait_for(client: httpx.AsyncClient, path: str, states: set[str]) -> dict[str, Any]:
    for _ in range(200):
        task: dict[str, Any] = (await client.get(path)).json()
        if task["status"] in states:
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"task never reached {states}: {task}")


async def test_async_invoke_task_status_list_and_stop(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await deploy_echo(client, "queued")
    response = await invoke(client, "queued", mode="async", payload={"job": 7})
    assert response.status_code == 200, response.text
    out = response.json()
    assert (out["mode"], out["status_code"], out["response_format"]) == ("async", 202, "empty")
    task_id = out["async_task_id"]
    assert task_id
    assert out["fc_request_id"]
    task = await _wait_for(client, f"{FN}/queued/async-tasks/{task_id}", {"Succeeded", "Failed"})
    assert task["status"] == "Succeeded", task
    assert task["fc_request_id"] == out["fc_request_id"]
    assert json.loads(task["return_payload"]) == {"echo": {"job": 7}, "version": "v1"}
    assert [e["status"] for e in task["events"]][-1] == "Succeeded"
    assert task["started_at"]
    assert task["ended_at"]

    # A task named by the caller, stopped while it runs.
    slow = await invoke(
        client,
        "queued",
        mode="async",
        async_task_id="slow-1",
        payload_base64=base64.b64encode(b"sleep10").decode(),
    )
    assert slow.json()["async_task_id"] == "slow-1"
    await _wait_for(client, f"{FN}/queued/async-tasks/slow-1", {"Running"})
    stopped = await client.post(f"{FN}/queued/async-tasks/slow-1/stop")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "Stopped"
    again = await client.post(f"{FN}/queued/async-tasks/slow-1/stop")
    assert again.status_code == 422, again.text  # FC refuses to stop a finished task

    listed = (await client.get(f"{FN}/queued/async-tasks")).json()
    assert [t["task_id"] for t in listed["items"]] == ["slow-1", task_id]
    only = (await client.get(f"{FN}/queued/async-tasks", params={"status": "Stopped"})).json()
    assert [t["task_id"] for t in only["items"]] == ["slow-1"]
    unknown = await client.get(f"{FN}/queued/async-tasks/nope")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "fc_not_found")


async def test_every_invoke_is_audited_without_payload(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await deploy_echo(client, "audited")
    first = (await invoke(client, "audited", payload={"secret": "s3cr3t"})).json()
    second = (await invoke(client, "audited", mode="async", payload=2)).json()
    response = await client.get(f"{FN}/audited/invocations", params={"limit": 1})
    assert response.status_code == 200, response.text
    page = response.json()
    [newest] = page["items"]
    assert newest["id"] == second["invocation_id"]
    assert (newest["mode"], newest["outcome"], newest["status_code"]) == ("async", "ok", 202)
    assert newest["fc_request_id"] == second["fc_request_id"]
    rest = (
        await client.get(f"{FN}/audited/invocations", params={"cursor": page["next_cursor"]})
    ).json()
    [oldest] = rest["items"]
    assert rest["next_cursor"] is None
    assert oldest["id"] == first["invocation_id"]
    assert (oldest["mode"], oldest["qualifier"], oldest["actor"]) == ("sync", "LATEST", "bootstrap")
    assert oldest["fc_request_id"] == first["fc_request_id"]
    assert oldest["duration_ms"] is not None
    assert "s3cr3t" not in json.dumps(page) + json.dumps(rest)
    # Another function's trail is its own.
    assert (await client.get(f"{FN}/other/invocations")).json()["items"] == []


async def test_a_refused_call_is_audited_as_failed(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await deploy_echo(client, "gone")
    fc.delete_function("gone")  # deleted in the console: FC answers FunctionNotFound
    response = await invoke(client, "gone", payload=1)
    assert (response.status_code, response.json()["code"]) == (404, "fc_not_found")
    [record] = (await client.get(f"{FN}/gone/invocations")).json()["items"]
    assert (record["outcome"], record["status_code"]) == ("failed", 404)
    assert record["fc_request_id"]


async def test_unknown_function_is_404_and_a_read_token_is_refused(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    missing = await invoke(client, "never-registered", payload=1)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    await deploy_echo(client, "guarded")
    reader = await token_with(client, "read", name="reader")
    headers = {"Authorization": f"Bearer {reader}"}
    refused = await client.post(f"{FN}/guarded/invoke", json={"payload": 1}, headers=headers)
    assert refused.status_code == 403
    assert (refused.json()["code"], refused.json()["required_scope"]) == ("forbidden", "deploy")
    task = await client.get(f"{FN}/guarded/async-tasks/x", headers=headers)
    assert task.status_code == 403
    # Reading the audit trail is a look, not a change.
    assert (await client.get(f"{FN}/guarded/invocations", headers=headers)).status_code == 200
    assert (await client.get(f"{FN}/guarded/invocations")).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payload": 1, "payload_base64": "AA=="}, "payload_base64"),
        ({"payload_base64": "not base64!"}, "payload_base64"),
        ({"payload_base64": "AAA"}, "payload_base64"),  # unpadded
        ({"headers": {"bad name": "x"}}, "headers"),
        ({"headers": {"X-Ok": "line\r\nInjected: 1"}}, "headers"),
        ({"headers": {"x-fc-invocation-type": "Async"}}, "headers"),
        ({"headers": {"Authorization": "Bearer x"}}, "headers"),
        ({"qualifier": "no/slash"}, "qualifier"),
        ({"mode": "later"}, "mode"),
        ({"async_task_id": "t1"}, "async_task_id"),  # sync has no task
        ({"mode": "async", "async_task_id": "1st"}, "async_task_id"),  # FC: not a digit first
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, fc_account: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(f"{FN}/whatever/invoke", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    named = {e["field"] for e in problem.get("errors", [])} | {problem.get("field")}
    assert field in named, problem
    assert "Injected" not in response.text
    assert "Bearer x" not in response.text


async def test_an_async_event_over_fc_s_limit_is_413_naming_the_field(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await deploy_echo(client, "big")
    event = base64.b64encode(b"x" * (ASYNC_PAYLOAD_LIMIT + 1)).decode()
    response = await invoke(client, "big", mode="async", payload_base64=event)
    assert response.status_code == 413, response.text
    assert (response.json()["code"], response.json()["field"]) == (
        "payload_too_large",
        "payload_base64",
    )
    assert (await client.get(f"{FN}/big/invocations")).json()["items"] == []
    # The same bytes are fine synchronously.
    sync = await invoke(client, "big", payload_base64=event, log_tail=False)
    assert sync.status_code == 200, sync.text
    assert sync.json()["response_text"] == "text:" + "x" * (ASYNC_PAYLOAD_LIMIT + 1)


async def test_valid_headers_go_with_the_signed_call(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await deploy_echo(client, "headed")
    # Accept and User-Agent are headers the SDK sets itself: given in another case they
    # went out twice and broke the signature.
    headers = {"X-Trace": "abc", "Accept": "text/plain", "User-Agent": "me/1", "x-e": ""}
    response = await invoke(client, "headed", payload=1, headers=headers)
    assert response.status_code == 200, response.text
    # FC accepts the call with the headers added (the signature still matches) and the
    # function answers as it does to the console: FC gives a standard runtime's handler
    # the payload only.
    direct = fc.invoke_function("headed", fc_models.InvokeFunctionRequest(body=b"1"))
    assert json.loads(direct.body.read())["echo"] == response.json()["response"]["echo"]

"""Reading a function's logs through fcplane: SLS GetLogs on its logConfig's logstore."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client

from service.client.connection import Target
from service.client.logs import logs as cli_logs
from service.client.output import Format, Output
from tests.fc import zip_b64
from tests.logs.conftest import (
    LOG_CONFIG,
    LOGGING_PY,
    LOGSTORE,
    PROJECT,
    deploy_function,
    invoke,
)

LOGS = "/v1/accounts/local/functions/{}/logs"


async def read(client: httpx.AsyncClient, name: str, **params: Any) -> dict[str, Any]:
    response = await client.get(LOGS.format(name), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def messages(body: dict[str, Any]) -> list[str]:
    return [line["message"] for line in body["items"]]


async def test_reads_the_function_s_lines_filtered_by_request_id_and_query(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await deploy_function(client, "greeter", logConfig=LOG_CONFIG)
    first = invoke(fc, "greeter", "alpha")
    second = invoke(fc, "greeter", "beta")

    everything = await read(client, "greeter")
    assert (everything["project"], everything["logstore"]) == (PROJECT, LOGSTORE)
    assert everything["topic"] == "FCLogs:greeter"
    assert everything["truncated"] is False
    lines = messages(everything)
    assert lines.index("payload alpha") < lines.index("payload beta")  # oldest first
    assert {line["request_id"] for line in everything["items"]} == {first, second}

    only_first = await read(client, "greeter", request_id=first)
    assert {line["request_id"] for line in only_first["items"]} == {first}
    assert "payload alpha" in messages(only_first)
    assert "payload beta" not in messages(only_first)
    assert only_first["query"] == f'"{first}"'

    handled = await read(client, "greeter", query="handled")
    [beta] = (await read(client, "greeter", query="handled and beta"))["items"]
    assert len(handled["items"]) == 2
    assert beta["level"] == "INFO"
    assert beta["message"].endswith(f"{second} [INFO] handled beta")
    assert beta["request_id"] == second
    assert beta["instance_id"].startswith("c-")
    assert beta["qualifier"] == "LATEST"
    logged_at = datetime.fromisoformat(beta["time"])
    assert abs(logged_at - datetime.now(UTC)) < timedelta(minutes=5)

    newest = await read(client, "greeter", limit=2)
    assert newest["truncated"] is True
    assert messages(newest) == lines[-2:]


async def test_a_window_before_the_invocations_is_empty(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await deploy_function(client, "timed", logConfig=LOG_CONFIG)
    invoke(fc, "timed", "now")
    assert messages(await read(client, "timed", **{"from": "2h", "to": "1h"})) == []
    start = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert "payload now" in messages(await read(client, "timed", **{"from": start}))


async def test_without_log_config_the_answer_names_what_to_set(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await deploy_function(client, "silent")
    response = await client.get(LOGS.format("silent"))
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "log_config_missing"
    assert problem["fields"] == ["logConfig.project", "logConfig.logstore"]
    assert "logConfig.project" in problem["detail"]


async def test_a_logstore_sls_does_not_have_is_a_clear_conflict(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await deploy_function(client, "moved", logConfig=LOG_CONFIG)
    # Somebody points the live function at another logstore: fcplane still reads the
    # applied one, which SLS (here, the emulator) no longer has.
    fc.update_function(
        "moved",
        fc_models.UpdateFunctionRequest(
            body=fc_models.UpdateFunctionInput(
                log_config=fc_models.LogConfig(project=PROJECT, logstore="elsewhere")
            )
        ),
    )
    response = await client.get(LOGS.format("moved"))
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "sls_not_found"
    assert problem["sls_code"] == "LogStoreNotExist"
    assert problem["logstore"] == LOGSTORE


async def test_refused_credentials_are_a_bad_gateway_not_a_crash(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await deploy_function(client, "locked", logConfig=LOG_CONFIG)
    changed = await client.patch("/v1/accounts/local", json={"access_key_secret": "not-it"})
    assert changed.status_code == 200, changed.text
    response = await client.get(LOGS.format("locked"))
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "sls_auth_failed"
    assert "not-it" not in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "1h", "to": "2h"}, "from"),
        ({"from": "40d"}, "from"),
        ({"to": "2026-13-01T00:00:00Z"}, "to"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"query": "x" * 1025}, "query"),
        ({"request_id": "bad id"}, "request_id"),
    ],
)
async def test_bad_window_limit_or_filters_are_422_naming_the_field(
    client: httpx.AsyncClient, fc_account: str, params: dict[str, str], field: str
) -> None:
    await client.post("/v1/accounts/local/functions", json={"name": "any"})
    response = await client.get(LOGS.format("any"), params=params)
    assert response.status_code == 422, response.text
    problem = response.json()
    named = problem.get("field") or ",".join(e["field"] for e in problem.get("errors", []))
    assert named == field


async def test_follow_refuses_an_end_and_unknown_functions_are_404(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    stream = {"Accept": "text/event-stream"}
    await client.post("/v1/accounts/local/functions", json={"name": "any"})
    ended = await client.get(LOGS.format("any"), params={"to": "now"}, headers=stream)
    assert ended.status_code == 422
    assert ended.json()["field"] == "to"
    missing = await client.get(LOGS.format("nobody"))
    assert missing.status_code == 404


async def _frames(response: httpx.Response) -> Any:
    """(event, data) pairs of a server-sent event stream; comments as ("comment", text)."""
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and data:
            yield event, json.loads(data)
            event, data = "message", ""


async def test_follow_streams_a_line_logged_after_the_stream_started(
    client: httpx.AsyncClient, fc: Client, fc_account: str, live_fcplane: str, admin_token: str
) -> None:
    await deploy_function(client, "tailed", logConfig=LOG_CONFIG)
    before = invoke(fc, "tailed", "before")
    headers = {"Authorization": f"Bearer {admin_token}", "Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=live_fcplane, headers=headers, timeout=30) as http,
        http.stream("GET", LOGS.format("tailed"), params={"from": "5m"}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = _frames(response)
        kind, opened = await anext(frames)
        assert (kind, opened) == ("comment", f"following FCLogs:tailed in {PROJECT}/{LOGSTORE}")
        seen: list[dict[str, Any]] = []
        after: str | None = None
        async with asyncio.timeout(60):  # a guard against a hang, not a speed check
            async for kind, data in frames:
                assert kind in ("log", "comment"), data
                if kind != "log":
                    continue
                seen.append(data)
                if data["message"] == "payload before":
                    # Now that the stream is live, log another line.
                    after = await asyncio.to_thread(invoke, fc, "tailed", "after")
                if data["message"] == "payload after":
                    break
    assert after is not None
    texts = [line["message"] for line in seen]
    assert texts.count("payload before") == 1  # re-read each poll, sent once
    assert texts.count("payload after") == 1
    assert {line["request_id"] for line in seen} == {before, after}


async def test_the_cli_prints_the_lines(
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    live_fcplane: str,
    admin_token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await deploy_function(client, "printed", logConfig=LOG_CONFIG)
    request_id = invoke(fc, "printed", "shown")
    invoke(fc, "printed", "hidden")
    params = {"from": "5m", "request_id": request_id, "query": None, "limit": 100}
    where = Target(live_fcplane, admin_token)
    code = await asyncio.to_thread(
        cli_logs, Output(Format.text), where, "printed", None, params, False
    )
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert any(line.endswith(f" {request_id} payload shown") for line in printed)
    assert not any("hidden" in line for line in printed)


async def test_a_function_fcplane_never_deployed_is_read_with_its_live_log_config(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name="console-made",
                runtime="python3.10",
                handler="index.handler",
                code=fc_models.InputCodeLocation(zip_file=zip_b64({"index.py": LOGGING_PY})),
                log_config=fc_models.LogConfig(project=PROJECT, logstore=LOGSTORE),
            )
        )
    )
    registered = await client.post("/v1/accounts/local/functions", json={"name": "console-made"})
    assert registered.status_code == 201, registered.text
    invoke(fc, "console-made", "live")
    assert "payload live" in messages(await read(client, "console-made"))


async def test_follow_ends_with_an_error_event_when_sls_fails(
    client: httpx.AsyncClient, fc: Client, fc_account: str, live_fcplane: str, admin_token: str
) -> None:
    await deploy_function(client, "lost", logConfig={"project": PROJECT, "logstore": "gone"})
    fc.update_function(  # the only function naming that logstore no longer does
        "lost",
        fc_models.UpdateFunctionRequest(
            body=fc_models.UpdateFunctionInput(
                log_config=fc_models.LogConfig(project=PROJECT, logstore="other")
            )
        ),
    )
    headers = {"Authorization": f"Bearer {admin_token}", "Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=live_fcplane, headers=headers, timeout=30) as http,
        http.stream("GET", LOGS.format("lost")) as response,
    ):
        assert response.status_code == 200
        frames = [frame async for frame in _frames(response)]
    kind, problem = frames[-1]
    assert kind == "error"
    assert problem["code"] == "sls_not_found"
    assert problem["logstore"] == "gone"
    assert [k for k, _ in frames] == ["comment", "error"]

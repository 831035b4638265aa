"""InvokeFunction through the SDK: sync, Tail logs, async tasks, aliases, throttling.

Every result comes from real handler code run by the emulator's process runtime.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

from service.emulator.server import EmbeddedEmulator
from tests.emulator.beacon import Beacon
from tests.emulator.conftest import (
    CONTEXT_PY,
    RAISE_PY,
    RUNNING_PY,
    SLEEP_PY,
    admin,
    code_of,
    create_function,
    instances,
    invoke,
    process_gone,
    raw_call,
    running_job,
    sdk_client,
    start,
    wait_for,
)


def _context(response: m.InvokeFunctionResponse) -> dict[str, Any]:
    seen: dict[str, Any] = json.loads(response.body.read())
    return seen


def test_sync_invoke_headers_and_body(fc: Client, emulator: EmbeddedEmulator) -> None:
    f = create_function(fc, "echo")
    response = invoke(fc, "echo", b"\x00binary\xff")
    assert response.status_code == 200
    assert response.body.read() == b"\x00binary\xff"
    h = response.headers
    assert h["x-fc-request-id"].startswith("1-")
    assert h["x-fc-code-checksum"] == f.code_checksum
    assert h["x-fc-invocation-service-version"] == "LATEST"
    assert "x-fc-error-type" not in h
    # the instance, duration and memory the runtime measured for this very request
    running = instances(emulator, "echo")
    assert [i["instance_id"] for i in running] == [h["x-fc-instance-id"]]
    assert float(h["x-fc-max-memory-usage"]) > 0
    assert len(h["x-fc-max-memory-usage"].rsplit(".", 1)[1]) == 2
    (entry,) = admin(emulator, "GET", f"logs?requestId={h['x-fc-request-id']}").json()["logs"]
    assert h["x-fc-invocation-duration"] == str(round(entry["durationMs"]))
    assert entry["instanceId"] == h["x-fc-instance-id"]


def test_handler_sees_request_context_and_code(fc: Client) -> None:
    f = create_function(fc, "ctx", code=code_of(CONTEXT_PY, **{"data.txt": "x"}))
    response = invoke(fc, "ctx", b"payload")
    seen = _context(response)
    assert seen["requestId"] == response.headers["x-fc-request-id"]
    assert (seen["name"], seen["qualifier"], seen["versionId"]) == ("ctx", "LATEST", "")
    assert seen["envVersion"] == "LATEST"
    assert (seen["timeout"], seen["memory"]) == (f.timeout, f.memory_size)
    assert {"data.txt", "index.py"} <= set(seen["codeFiles"])
    assert seen["payload"] == "payload"
    assert response.headers["x-fc-code-checksum"] == f.code_checksum


def test_function_error_is_200_with_error_type(fc: Client) -> None:
    create_function(fc, "bad", code=code_of(RAISE_PY))
    response = invoke(fc, "bad")
    assert response.status_code == 200
    assert response.headers["x-fc-error-type"] == "UnhandledInvocationError"
    error = json.loads(response.body.read())
    assert error["errorMessage"] == "boom"
    assert error["errorType"] == "Exception"


def test_tail_log(fc: Client) -> None:
    source = (
        "def handler(event, context):\n    print('tail me', event.decode())\n    return event\n"
    )
    create_function(fc, "tail", code=code_of(source))
    response = invoke(fc, "tail", b"now", x_fc_log_type="Tail")
    log = base64.b64decode(response.headers["x-fc-log-result"]).decode()
    assert f"FC Invoke Start RequestId: {response.headers['x-fc-request-id']}" in log
    assert "tail me now" in log
    assert "x-fc-log-result" not in invoke(fc, "tail").headers


def test_invoke_missing_function_and_qualifier(fc: Client) -> None:
    with pytest.raises(ClientException) as exc:
        invoke(fc, "ghost")
    assert (exc.value.status_code, exc.value.code) == (404, "FunctionNotFound")
    create_function(fc, "f")
    with pytest.raises(ClientException) as exc:
        invoke(fc, "f", qualifier="nope")
    assert exc.value.code == "AliasNotFound"


def test_throttled_invoke_is_429_with_retry_after(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "busy")
    assert invoke(fc, "busy", b"warm").body.read() == b"warm"  # a warm instance exists
    fc.put_concurrency_config(
        "busy", m.PutConcurrencyConfigRequest(body=m.PutConcurrencyInput(reserved_concurrency=0))
    )
    with pytest.raises(ThrottlingException) as exc:
        invoke(fc, "busy")
    assert exc.value.status_code == 429
    assert exc.value.code == "ResourceThrottled"
    assert exc.value.retry_after == 1
    raw = raw_call(emulator, "POST", "/2023-03-30/functions/busy/invocations", body=b"x")
    assert raw.status_code == 429
    assert raw.headers["x-acs-retry-after"] == "1"
    assert raw.json()["Code"] == "ResourceThrottled"
    assert "Reserved concurrency" in raw.json()["Message"]
    fc.delete_concurrency_config("busy")
    assert invoke(fc, "busy", b"again").body.read() == b"again"


def _in_background(fc: Client, name: str, payload: bytes) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(invoke(fc, name, payload).body.read())
        except BaseException as exc:  # re-raised by the test through `out`
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _wait_busy(emu: EmbeddedEmulator, name: str) -> None:
    wait_for(f"{name} to be busy", lambda: any(i["busy"] for i in instances(emu, name)))


def test_reserved_concurrency_caps_instances_in_flight(
    fc: Client, emulator: EmbeddedEmulator
) -> None:
    create_function(fc, "rc", code=code_of(SLEEP_PY))
    fc.put_concurrency_config(
        "rc", m.PutConcurrencyConfigRequest(body=m.PutConcurrencyInput(reserved_concurrency=1))
    )
    thread, out = _in_background(fc, "rc", b"1.0")
    try:
        _wait_busy(emulator, "rc")
        with pytest.raises(ThrottlingException) as exc:
            invoke(fc, "rc", b"")
        assert (exc.value.status_code, exc.value.retry_after) == (429, 1)
        assert "Reserved concurrency exceeded" in exc.value.message
    finally:
        thread.join()
    assert out == [b"done"]
    assert invoke(fc, "rc", b"").body.read() == b"done"  # the instance is free again
    metrics = admin(emulator, "GET", "metrics?functionName=rc").json()["functions"]["rc"]
    assert (metrics["invocations"], metrics["throttles"]) == (3, 1)


def test_account_instance_limit_throttles_while_busy(tmp_path: Path) -> None:
    emu = start(tmp_path, account_instance_limit=1)
    try:
        fc = sdk_client(emu)
        create_function(fc, "slow", code=code_of(SLEEP_PY))
        create_function(fc, "other")
        thread, out = _in_background(fc, "slow", b"1.0")
        try:
            _wait_busy(emu, "slow")
            with pytest.raises(ThrottlingException) as exc:
                invoke(fc, "other")
            assert (exc.value.status_code, exc.value.retry_after) == (429, 1)
            assert "Account instance limit" in exc.value.message
        finally:
            thread.join()
        assert out == [b"done"]
        # now idle, the slow function's instance makes room for the other function
        assert invoke(fc, "other", b"room").body.read() == b"room"
        assert instances(emu, "slow") == []
        assert len(instances(emu, "other")) == 1
    finally:
        emu.stop()


def _wait_task(fc: Client, name: str, task_id: str, want: set[str]) -> m.AsyncTask:
    deadline = time.monotonic() + 10
    while True:
        task = fc.get_async_task(name, task_id, m.GetAsyncTaskRequest()).body
        if task.status in want or time.monotonic() > deadline:
            return task
        time.sleep(0.02)


def test_async_invoke_task_lifecycle(fc: Client) -> None:
    create_function(fc, "later")
    response = invoke(
        fc, "later", b"job", x_fc_invocation_type="Async", x_fc_async_task_id="task-1"
    )
    assert response.status_code == 202
    assert response.headers["x-fc-async-task-id"] == "task-1"
    task = _wait_task(fc, "later", "task-1", {"Succeeded"})
    assert task.status == "Succeeded"
    assert task.task_id == "task-1"
    assert task.request_id == response.headers["x-fc-request-id"]
    assert task.task_payload == "job"
    assert task.return_payload == "job"
    assert task.function_arn.endswith("functions/later")
    assert task.started_time <= task.end_time
    assert task.events[0].status == "Enqueued"
    assert task.instance_id.startswith("c-")
    generated = invoke(fc, "later", x_fc_invocation_type="Async")
    assert generated.status_code == 202
    assert generated.headers["x-fc-async-task-id"]
    _wait_task(fc, "later", generated.headers["x-fc-async-task-id"], {"Succeeded"})
    listed = fc.list_async_tasks("later", m.ListAsyncTasksRequest(include_payload=True)).body
    assert {t.task_id for t in listed.tasks} == {"task-1", generated.headers["x-fc-async-task-id"]}
    only = fc.list_async_tasks("later", m.ListAsyncTasksRequest(prefix="task-")).body
    assert [t.task_id for t in only.tasks] == ["task-1"]


def test_async_failure_retries_then_fails(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "flaky", code=code_of(RAISE_PY))
    fc.put_async_invoke_config(
        "flaky",
        m.PutAsyncInvokeConfigRequest(body=m.PutAsyncInvokeConfigInput(max_async_retry_attempts=1)),
    )
    invoke(fc, "flaky", x_fc_invocation_type="Async", x_fc_async_task_id="f1")
    task = _wait_task(fc, "flaky", "f1", {"Failed"})
    assert task.status == "Failed"
    assert task.already_retried_times == 1
    assert "boom" in task.task_error_message
    metrics = admin(emulator, "GET", "metrics?functionName=flaky").json()["functions"]["flaky"]
    assert (metrics["invocations"], metrics["errors"]) == (2, 2)  # the first run and one retry


def test_stop_async_task(fc: Client, emulator: EmbeddedEmulator, tmp_path: Path) -> None:
    create_function(fc, "slow", code=code_of(RUNNING_PY), timeout=60)
    beacon = Beacon()
    job = running_job(beacon, 30)
    invoke(fc, "slow", job, x_fc_invocation_type="Async", x_fc_async_task_id="s1")
    beacon.wait("the handler to run")
    assert fc.get_async_task("slow", "s1", m.GetAsyncTaskRequest()).body.status == "Running"
    (pid,) = [i["pid"] for i in instances(emulator, "slow")]
    assert fc.stop_async_task("slow", "s1", m.StopAsyncTaskRequest()).status_code in (200, 204)
    task = fc.get_async_task("slow", "s1", m.GetAsyncTaskRequest()).body
    assert task.status == "Stopped"
    # the instance running the handler is stopped with the task, not left sleeping
    wait_for("the stopped task's instance to go", lambda: instances(emulator, "slow") == [])
    wait_for("its process to exit", lambda: process_gone(pid))
    with pytest.raises(ClientException) as exc:
        fc.stop_async_task("slow", "s1", m.StopAsyncTaskRequest())
    assert exc.value.code == "InvalidArgument"
    with pytest.raises(ClientException) as exc:
        fc.get_async_task("slow", "nope", m.GetAsyncTaskRequest())
    assert (exc.value.status_code, exc.value.code) == (404, "AsyncTaskNotFound")


def test_alias_traffic_split(fc: Client) -> None:
    create_function(fc, "split", code=code_of(CONTEXT_PY))
    fc.publish_function_version(
        "split", m.PublishFunctionVersionRequest(body=m.PublishVersionInput())
    )
    fc.update_function("split", m.UpdateFunctionRequest(body=m.UpdateFunctionInput(timeout=9)))
    fc.publish_function_version(
        "split", m.PublishFunctionVersionRequest(body=m.PublishVersionInput())
    )
    fc.create_alias(
        "split",
        m.CreateAliasRequest(
            body=m.CreateAliasInput(
                alias_name="canary", version_id="1", additional_version_weight={"2": 0.3}
            )
        ),
    )
    served: Counter[str] = Counter()
    timeouts: dict[str, set[int]] = {}
    qualifiers: set[str] = set()
    for _ in range(300):
        response = invoke(fc, "split", b"", qualifier="canary")
        version = response.headers["x-fc-invocation-service-version"]
        seen = _context(response)
        served[version] += 1
        assert seen["versionId"] == version  # the header tells what really ran
        timeouts.setdefault(version, set()).add(seen["timeout"])
        qualifiers.add(seen["qualifier"])
    assert set(served) == {"1", "2"}
    assert 45 <= served["2"] <= 135  # 30% of 300 = 90, generous bounds
    assert timeouts == {"1": {3}, "2": {9}}
    assert qualifiers == {"canary"}


def test_invoke_version_directly(fc: Client) -> None:
    create_function(fc, "ver", code=code_of(CONTEXT_PY))
    fc.publish_function_version(
        "ver", m.PublishFunctionVersionRequest(body=m.PublishVersionInput())
    )
    response = invoke(fc, "ver", qualifier="1")
    assert response.headers["x-fc-invocation-service-version"] == "1"
    seen = _context(response)
    assert (seen["versionId"], seen["envVersion"]) == ("1", "1")

"""The /_emulator/ admin API: logs, metrics, fault injection, reset."""

from __future__ import annotations

import time

import httpx
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import (
    ClientException,
    ServerException,
    ThrottlingException,
)

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import (
    HTTP_ECHO_PY,
    admin,
    code_of,
    create_function,
    instances,
    invoke,
    process_gone,
    wait_for,
)

OBS_PY = """
def handler(event, context):
    print("handling", event.decode())
    if event == b"2":
        raise Exception("boom")
    return event
"""


def test_health_needs_no_signature(emulator: EmbeddedEmulator) -> None:
    body = admin(emulator, "GET", "health").json()
    assert body["status"] == "ok"
    assert body["auth"] is True
    assert body["runtime"]["timeout"]  # the process runtime says how it enforces limits


def test_logs_and_metrics(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "obs", code=code_of(OBS_PY))
    first = invoke(fc, "obs", b"1")
    failed = invoke(fc, "obs", b"2")
    assert failed.headers["x-fc-error-type"] == "UnhandledInvocationError"
    fc.put_concurrency_config(
        "obs", m.PutConcurrencyConfigRequest(body=m.PutConcurrencyInput(reserved_concurrency=0))
    )
    with pytest.raises(ThrottlingException):
        invoke(fc, "obs", b"3")
    metrics = admin(emulator, "GET", "metrics?functionName=obs").json()["functions"]["obs"]
    assert metrics["invocations"] == 3
    assert metrics["errors"] == 1
    assert metrics["throttles"] == 1
    assert metrics["coldStarts"] == 1  # the second request ran on the warm instance
    request_id = first.headers["x-fc-request-id"]
    logs = admin(emulator, "GET", f"logs?requestId={request_id}").json()["logs"]
    assert len(logs) == 1
    assert logs[0]["functionName"] == "obs"
    assert logs[0]["qualifier"] == "LATEST"
    assert logs[0]["status"] == 200
    assert logs[0]["errorType"] is None
    assert logs[0]["instanceId"] == first.headers["x-fc-instance-id"]
    assert f"FC Invoke Start RequestId: {request_id}" in logs[0]["log"]
    assert "handling 1" in logs[0]["log"]  # the handler's own output
    all_logs = admin(emulator, "GET", "logs?functionName=obs").json()["logs"]
    assert len(all_logs) == 2  # a throttled request never ran, so it has no log
    assert all_logs[0]["requestId"] == failed.headers["x-fc-request-id"]  # newest first
    assert all_logs[0]["errorType"] == "UnhandledInvocationError"
    durations = sorted(entry["durationMs"] for entry in all_logs)
    assert all(d > 0 for d in durations)
    assert metrics["durationMs"]["count"] == 2
    assert metrics["durationMs"]["max"] == durations[-1]
    assert metrics["durationMs"]["p50"] in durations
    assert metrics["durationMs"]["p99"] == durations[-1]
    limited = admin(emulator, "GET", "logs?functionName=obs&limit=1").json()["logs"]
    assert [e["requestId"] for e in limited] == [failed.headers["x-fc-request-id"]]


def test_fault_fails_next_n_calls_of_an_action(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "f")
    rule = admin(
        emulator,
        "POST",
        "faults",
        {"action": "UpdateFunction", "count": 2, "status": 409, "code": "ConcurrentUpdateError"},
    )
    assert rule.status_code == 201
    update = m.UpdateFunctionRequest(body=m.UpdateFunctionInput(timeout=5))
    for _ in range(2):
        with pytest.raises(ClientException) as exc:
            fc.update_function("f", update)
        assert (exc.value.status_code, exc.value.code) == (409, "ConcurrentUpdateError")
    assert fc.update_function("f", update).body.timeout == 5
    assert fc.get_function("f", m.GetFunctionRequest()).body.timeout == 5
    assert admin(emulator, "GET", "faults").json()["faults"] == []


def test_fault_on_invoke_with_5xx_and_throttle(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "f")
    admin(
        emulator,
        "POST",
        "faults",
        [
            {"action": "InvokeFunction", "status": 503},
            {"action": "InvokeFunction", "status": 429, "retryAfter": 3},
        ],
    )
    with pytest.raises(ServerException) as server:
        fc.invoke_function("f", m.InvokeFunctionRequest(body=b""))
    assert server.value.status_code == 503
    with pytest.raises(ThrottlingException) as throttled:
        fc.invoke_function("f", m.InvokeFunctionRequest(body=b""))
    assert throttled.value.status_code == 429
    assert throttled.value.retry_after == 3
    assert instances(emulator, "f") == []  # faulted requests never reached the function
    ok = fc.invoke_function("f", m.InvokeFunctionRequest(body=b"ok"))
    assert ok.status_code == 200
    assert ok.body.read() == b"ok"
    metrics = admin(emulator, "GET", "metrics?functionName=f").json()["functions"]["f"]
    assert (metrics["invocations"], metrics["throttles"]) == (1, 0)


def test_fault_latency_and_function_filter(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "slow")
    create_function(fc, "fast")
    admin(
        emulator,
        "POST",
        "faults",
        {"action": "GetFunction", "latencyMs": 1000, "functionName": "slow", "count": None},
    )
    started = time.monotonic()
    fc.get_function("fast", m.GetFunctionRequest())
    assert time.monotonic() - started < 0.9  # not delayed by the other function's fault
    for _ in range(2):
        started = time.monotonic()
        assert fc.get_function("slow", m.GetFunctionRequest()).body.function_name == "slow"
        assert time.monotonic() - started >= 1.0
    faults = admin(emulator, "GET", "faults").json()["faults"]
    assert len(faults) == 1
    assert admin(emulator, "DELETE", f"faults/{faults[0]['id']}").status_code == 204
    assert admin(emulator, "GET", "faults").json()["faults"] == []


def test_fault_on_http_trigger(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "web", code=code_of(HTTP_ECHO_PY))
    url = fc.create_trigger(
        "web",
        m.CreateTriggerRequest(
            body=m.CreateTriggerInput(
                trigger_name="t", trigger_type="http", trigger_config='{"authType":"anonymous"}'
            )
        ),
    ).body.http_trigger.url_internet
    admin(emulator, "POST", "faults", {"action": "HttpTrigger", "status": 502})
    failed = httpx.get(url)
    assert failed.status_code == 502
    assert failed.headers["x-fc-error-type"] == "FcCommonError"
    assert instances(emulator, "web") == []  # the faulted request never reached the function
    assert httpx.get(url).status_code == 201


def test_bad_fault_definitions(emulator: EmbeddedEmulator) -> None:
    for bad in [
        {},
        {"action": "X"},
        {"action": "X", "status": 200},
        {"action": "X", "status": 500, "oops": 1},
    ]:
        response = admin(emulator, "POST", "faults", bad)
        assert response.status_code == 400
        assert response.json()["Code"] == "InvalidArgument"


def test_reset(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "r")
    fc.invoke_function("r", m.InvokeFunctionRequest(body=b""))
    (pid,) = [i["pid"] for i in instances(emulator, "r")]
    admin(emulator, "POST", "faults", {"action": "ListFunctions", "status": 500, "count": 5})
    assert admin(emulator, "POST", "reset").json()["reset"] == {
        "faults": True,
        "metrics": True,
        "logs": True,
    }
    assert admin(emulator, "GET", "metrics").json()["functions"] == {}
    assert admin(emulator, "GET", "logs").json()["logs"] == []
    assert [
        f.function_name for f in fc.list_functions(m.ListFunctionsRequest()).body.functions
    ] == ["r"]
    assert len(instances(emulator, "r")) == 1  # a plain reset keeps resources and instances
    admin(emulator, "POST", "reset", {"state": True})
    assert fc.list_functions(m.ListFunctionsRequest()).body.functions == []
    assert instances(emulator, "r") == []
    wait_for("the instance's process to exit", lambda: process_gone(pid))


def test_unknown_admin_path(emulator: EmbeddedEmulator) -> None:
    response = admin(emulator, "GET", "nothing")
    assert response.status_code == 404
    assert response.json()["Code"] == "PathNotSupported"

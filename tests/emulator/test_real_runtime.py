"""End to end: code really runs behind the SDK and triggers (as in every emulator test)."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ThrottlingException

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import b64, create_function, invoke, make_zip

HTTP_PY = """
import json

def handler(event, context):
    req = json.loads(event)
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({
            "path": req["rawPath"],
            "method": req["requestContext"]["http"]["method"],
            "body": req["body"],
            "q": req["queryParameters"],
        }),
    }
"""
VERSIONED_PY = "def handler(event, context):\n    return 'v{}'\n"


def test_echo_sync_and_tail(fc: Client) -> None:
    f = create_function(fc, "echo")
    response = invoke(fc, "echo", b"hello", x_fc_log_type="Tail")
    assert response.status_code == 200
    assert response.body.read() == b"hello"
    assert response.headers["x-fc-code-checksum"] == f.code_checksum
    assert response.headers["x-fc-instance-id"]
    log = base64.b64decode(response.headers["x-fc-log-result"]).decode()
    assert response.headers["x-fc-request-id"] in log


def test_unhandled_error(fc: Client) -> None:
    code = make_zip({"index.py": "def handler(event, context):\n    raise ValueError('nope')\n"})
    create_function(fc, "boom", code=m.InputCodeLocation(zip_file=b64(code)))
    response = invoke(fc, "boom", b"")
    assert response.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert json.loads(response.body.read())["errorMessage"] == "nope"


def test_async_invoke_runs(fc: Client) -> None:
    create_function(fc, "later")
    invoke(fc, "later", b"job", x_fc_invocation_type="Async", x_fc_async_task_id="r1")
    deadline = time.monotonic() + 20
    while True:
        task = fc.get_async_task("later", "r1", m.GetAsyncTaskRequest()).body
        if task.status in ("Succeeded", "Failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert task.status == "Succeeded"
    assert task.return_payload == "job"


def test_http_trigger_event(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(
        fc, "web", code=m.InputCodeLocation(zip_file=b64(make_zip({"index.py": HTTP_PY})))
    )
    url = fc.create_trigger(
        "web",
        m.CreateTriggerRequest(
            body=m.CreateTriggerInput(
                trigger_name="t",
                trigger_type="http",
                trigger_config='{"authType":"anonymous","methods":["POST"]}',
            )
        ),
    ).body.http_trigger.url_internet
    response = httpx.post(f"{url}/a/b?x=1", content=b"data")
    assert response.status_code == 200
    assert response.json() == {"path": "/a/b", "method": "POST", "body": "data", "q": {"x": "1"}}
    assert response.headers["x-fc-request-id"]


def test_alias_split_runs_frozen_code(fc: Client) -> None:
    for v in (1, 2):
        code = m.InputCodeLocation(zip_file=b64(make_zip({"index.py": VERSIONED_PY.format(v)})))
        if v == 1:
            create_function(fc, "split", code=code)
        else:
            fc.update_function(
                "split", m.UpdateFunctionRequest(body=m.UpdateFunctionInput(code=code))
            )
        fc.publish_function_version(
            "split", m.PublishFunctionVersionRequest(body=m.PublishVersionInput())
        )
    fc.create_alias(
        "split",
        m.CreateAliasRequest(
            body=m.CreateAliasInput(
                alias_name="canary", version_id="1", additional_version_weight={"2": 0.5}
            )
        ),
    )
    bodies = {invoke(fc, "split", b"", qualifier="canary").body.read() for _ in range(40)}
    assert bodies == {b"v1", b"v2"}


def test_custom_container_invoke_is_a_clear_error(fc: Client) -> None:
    fc.create_function(
        m.CreateFunctionRequest(
            body=m.CreateFunctionInput(
                function_name="box",
                runtime="custom-container",
                handler="x",
                custom_container_config=m.CustomContainerConfig(image="registry/x:1"),
            )
        )
    )
    response = invoke(fc, "box", b"")
    assert response.headers.get("x-fc-error-type")
    assert b"container" in response.body.read().lower()


@pytest.mark.parametrize("runtime", ["python3.9", "python3.12"])
def test_other_python_runtimes(fc: Client, runtime: str) -> None:
    create_function(fc, "py", runtime=runtime)
    assert invoke(fc, "py", b"x").body.read() == b"x"


def test_reserved_concurrency_zero_throttles(fc: Client) -> None:
    create_function(fc, "blocked")
    fc.put_concurrency_config(
        "blocked", m.PutConcurrencyConfigRequest(body=m.PutConcurrencyInput(reserved_concurrency=0))
    )
    with pytest.raises(ThrottlingException) as exc:
        invoke(fc, "blocked", b"")
    assert exc.value.status_code == 429
    fc.delete_concurrency_config("blocked")
    assert invoke(fc, "blocked", b"ok").body.read() == b"ok"


def test_layer_code_is_importable(fc: Client) -> None:
    layer = fc.create_layer_version(
        "shared",
        m.CreateLayerVersionRequest(
            body=m.CreateLayerVersionInput(
                code=m.InputCodeLocation(zip_file=b64(make_zip({"python/shared.py": "X = 42\n"})))
            )
        ),
    ).body
    source = "import shared\n\ndef handler(event, context):\n    return str(shared.X)\n"
    create_function(
        fc,
        "uses",
        code=m.InputCodeLocation(zip_file=b64(make_zip({"index.py": source}))),
        layers=[layer.layer_version_arn],
    )
    assert invoke(fc, "uses", b"").body.read() == b"42"


def test_provisioned_instances_are_listed(fc: Client) -> None:
    create_function(fc, "warm")
    fc.put_provision_config(
        "warm", m.PutProvisionConfigRequest(body=m.PutProvisionConfigInput(target=1))
    )
    deadline = time.monotonic() + 20
    while True:
        instances = fc.list_instances("warm", m.ListInstancesRequest()).body.instances
        if instances or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(instances) == 1
    assert instances[0].instance_id
    config = fc.get_provision_config("warm", m.GetProvisionConfigRequest()).body
    assert (config.target, config.current) == (1, 1)

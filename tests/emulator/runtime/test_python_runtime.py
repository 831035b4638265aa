"""Standard Python runtime: handler calls, context, environment, errors and lifecycle."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from service.emulator.runtime.contract import FunctionSpec, InvokeRequest
from service.emulator.runtime.manager import ProcessRuntime
from tests.emulator.beacon import Beacon

SpecFactory = Callable[..., FunctionSpec]

ECHO = {
    "index.py": """
        def handler(event, context):
            print("got", len(event), "bytes")
            return event
    """
}


async def test_echo_cold_then_warm(
    runtime: ProcessRuntime, make_spec: SpecFactory, tmp_path: Path
) -> None:
    spec = make_spec(ECHO)
    first = await runtime.invoke(spec, InvokeRequest("1-req-a", b"hello"))
    second = await runtime.invoke(spec, InvokeRequest("1-req-b", b"\x00\xffbin"))

    assert (first.status, first.body, first.error_type) == (200, b"hello", None)
    assert second.body == b"\x00\xffbin"
    assert first.cold_start
    assert not second.cold_start
    assert first.instance_id.startswith("c-")
    assert first.instance_id == second.instance_id
    assert first.duration_ms > 0
    assert 0 < first.max_memory_mb < spec.memory_mb
    lines = first.log.decode().splitlines()
    assert lines[0] == "FC Invoke Start RequestId: 1-req-a"
    assert "got 5 bytes" in lines
    assert lines[-2] == "FC Invoke End RequestId: 1-req-a"
    assert lines[-1].startswith("Duration: ")
    assert "Memory Size: 256 MB" in lines[-1]
    assert "Max Memory Used: " in lines[-1]
    assert "Billed Duration: " in lines[-1]
    assert "1-req-a" not in second.log.decode()
    [info] = runtime.instances(spec.name)
    assert info.instance_id == first.instance_id
    assert info.busy == 0
    assert "local python" in info.interpreter
    assert "python3.12" in info.interpreter
    # /code is read-only on FC: the shared unpacked package stays as uploaded.
    assert list((tmp_path / "data").rglob("__pycache__")) == []


async def test_return_values_are_encoded(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {
            "index.py": """
                def handler(event, context):
                    kind = event.decode()
                    return {"str": "text é", "dict": {"a": [1]}, "none": None}[kind]
            """
        }
    )
    assert (await runtime.invoke(spec, InvokeRequest("r1", b"str"))).body == "text é".encode()
    assert json.loads((await runtime.invoke(spec, InvokeRequest("r2", b"dict"))).body) == {"a": [1]}
    assert (await runtime.invoke(spec, InvokeRequest("r3", b"none"))).body == b""


CONTEXT = {
    "index.py": """
        import json
        def handler(event, context):
            context.getLogger().info("logged via context")
            out = {
                "request_id": context.request_id,
                "region": context.region,
                "account_id": context.account_id,
                "function": vars(context.function),
                "has_credentials": hasattr(context, "credentials"),
                "has_service": hasattr(context, "service"),
            }
            if hasattr(context, "credentials"):
                out["credential_fields"] = sorted(vars(context.credentials))
                out["service_qualifier"] = context.service.qualifier
            return out
    """
}


async def test_context_fields_312(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(CONTEXT, region="cn-shanghai", account_id="42", timeout_s=7)
    result = await runtime.invoke(spec, InvokeRequest("ctx-1", b""))
    body = json.loads(result.body)
    assert body["request_id"] == "ctx-1"
    assert (body["region"], body["account_id"]) == ("cn-shanghai", "42")
    assert body["function"] == {
        "name": spec.name,
        "handler": "index.handler",
        "memory": 256,
        "timeout": 7,
        "version_id": "",
        "qualifier": "LATEST",
    }
    assert not body["has_credentials"]
    assert not body["has_service"]
    assert "ctx-1 [INFO] logged via context" in result.log.decode()


async def test_context_fields_39_carry_credentials_and_service(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(CONTEXT, runtime="python3.9", qualifier="prod", version_id="3")
    body = json.loads((await runtime.invoke(spec, InvokeRequest("ctx-2", b""))).body)
    assert body["has_credentials"]
    assert body["has_service"]
    assert body["credential_fields"] == ["access_key_id", "access_key_secret", "security_token"]
    assert body["service_qualifier"] == "prod"
    assert body["function"]["version_id"] == "3"


async def test_environment_variables(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {
            "index.py": """
                import json, os
                import vendored  # found through the user's PYTHONPATH=/code/vendor
                def handler(event, context):
                    return {k: v for k, v in os.environ.items()}
            """,
            "vendor/vendored.py": "X = 1\n",
        },
        environment={"GREETING": "hi", "FC_FUNCTION_NAME": "spoofed", "PYTHONPATH": "/code/vendor"},
        memory_mb=512,
    )
    result = await runtime.invoke(spec, InvokeRequest("env-1", b""))
    env = json.loads(result.body)
    assert env["GREETING"] == "hi"
    assert env["FC_FUNCTION_NAME"] == spec.name  # FC_ is reserved
    assert env["FC_FUNCTION_HANDLER"] == "index.handler"
    assert env["FC_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["FC_INSTANCE_ID"] == result.instance_id
    assert env["FC_FUNCTION_VERSION"] == "LATEST"
    assert (env["FC_REGION"], env["FC_ACCOUNT_ID"]) == (spec.region, spec.account_id)
    assert env["FC_FUNC_CODE_PATH"] == "/code/"  # FC's path, really mounted (see the sandbox)
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in env
    assert "VIRTUAL_ENV" not in env  # the emulator's own environment does not leak in
    assert env["TMPDIR"] == env["HOME"] == "/tmp"


async def test_unhandled_error_shape(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {
            "index.py": """
                def helper():
                    raise ValueError("bad input")
                def handler(event, context):
                    helper()
            """
        }
    )
    result = await runtime.invoke(spec, InvokeRequest("err-1", b""))
    assert result.status == 200
    assert result.error_type == "UnhandledInvocationError"
    body = json.loads(result.body)
    assert body["errorMessage"] == "bad input"
    assert body["errorType"] == "ValueError"
    assert [frame[2] for frame in body["stackTrace"]] == ["handler", "helper"]
    assert all(len(frame) == 4 for frame in body["stackTrace"])
    again = await runtime.invoke(spec, InvokeRequest("err-2", b""))
    assert again.instance_id == result.instance_id  # a handled exception keeps the instance


async def test_import_error_and_missing_handler(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    broken = make_spec({"index.py": "def handler(event, context)\n    return 1\n"})
    result = await runtime.invoke(broken, InvokeRequest("imp-1", b""))
    body = json.loads(result.body)
    assert result.error_type == "UnhandledInvocationError"
    assert body["errorType"] == "SyntaxError"
    assert "Unable to import module 'index'" in body["errorMessage"]

    missing = make_spec({"index.py": "x = 1\n"})
    body = json.loads((await runtime.invoke(missing, InvokeRequest("imp-2", b""))).body)
    assert "Handler 'handler' is missing" in body["errorMessage"]


async def test_crashed_process_is_replaced(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {
            "index.py": """
                import os
                def handler(event, context):
                    if event == b"die":
                        os._exit(3)
                    return "alive"
            """
        }
    )
    warm = await runtime.invoke(spec, InvokeRequest("c-1", b"ok"))
    crashed = await runtime.invoke(spec, InvokeRequest("c-2", b"die"))
    assert crashed.error_type == "UnhandledInvocationError"
    message = json.loads(crashed.body)["errorMessage"]
    assert message.startswith("Process exited unexpectedly before completing request (duration:")
    assert "maxMemoryUsage:" in message
    after = await runtime.invoke(spec, InvokeRequest("c-3", b"ok"))
    assert after.body == b"alive"
    assert after.cold_start
    assert after.instance_id != warm.instance_id


async def test_initializer_runs_once_per_instance(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(
        {
            "index.py": """
                calls = []
                def init(context):
                    print("initializing", context.request_id)
                    calls.append(context.function.name)
                def handler(event, context):
                    return str(len(calls))
            """
        },
        initializer="index.init",
    )
    first = await runtime.invoke(spec, InvokeRequest("i-1", b""))
    second = await runtime.invoke(spec, InvokeRequest("i-2", b""))
    assert (first.body, second.body) == (b"1", b"1")
    log = first.log.decode()
    assert "FC Initialize Start RequestId:" in log
    assert "initializing" in log
    assert log.index("FC Initialize End") < log.index("FC Invoke Start RequestId: i-1")
    assert "Initialize" not in second.log.decode()


async def test_failed_initializer_fails_the_call_and_next_gets_new_instance(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(
        {
            "index.py": """
                def init(context):
                    raise RuntimeError("no database")
                def handler(event, context):
                    return "never"
            """
        },
        initializer="index.init",
    )
    first = await runtime.invoke(spec, InvokeRequest("if-1", b""))
    second = await runtime.invoke(spec, InvokeRequest("if-2", b""))
    assert first.error_type == "UnhandledInvocationError"
    assert json.loads(first.body)["errorMessage"] == "no database"
    assert second.error_type == "UnhandledInvocationError"
    assert second.cold_start
    assert first.instance_id != second.instance_id
    assert runtime.instances(spec.name) == []


async def test_pre_stop_runs_before_the_instance_goes(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    beacon = Beacon()  # the sandbox shares the host's network (internetAccess), not its files
    spec = make_spec(
        {
            "index.py": """
                import os, socket
                def pre_stop(context):
                    port = int(os.environ["BEACON_PORT"])
                    with socket.create_connection(("127.0.0.1", port)) as sock:
                        sock.sendall(context.function.name.encode())
                def handler(event, context):
                    return "ok"
            """
        },
        pre_stop="index.pre_stop",
        environment={"BEACON_PORT": str(beacon.port)},
    )
    result = await runtime.invoke(spec, InvokeRequest("ps-1", b""))
    [info] = runtime.instances(spec.name)
    await runtime.drop_function(spec.name)
    assert beacon.messages == [spec.name.encode()]
    beacon.close()
    assert runtime.instances(spec.name) == []
    assert not os.path.exists(f"/proc/{info.pid}") or _is_zombie_free(info.pid)
    assert result.body == b"ok"


def _is_zombie_free(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0
    except OSError:
        return True


async def test_unsupported_runtimes(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    container = make_spec(ECHO, runtime="custom-container")
    result = await runtime.invoke(container, InvokeRequest("cc-1", b""))
    assert result.error_type == "RuntimeNotSupported"  # never the function's own error type
    message = json.loads(result.body)["errorMessage"]
    assert message.startswith("runtime custom-container is not supported by the local emulator")
    assert "container images are not pulled or run locally" in message
    node = make_spec(ECHO, runtime="nodejs20")
    answered = await runtime.invoke(node, InvokeRequest("n-1", b""))
    assert answered.error_type == "RuntimeNotSupported"
    assert json.loads(answered.body) == {
        "errorMessage": "runtime nodejs20 is not supported by the local emulator",
        "errorType": "RuntimeNotSupported",
    }


async def test_cancelled_caller_does_not_poison_the_pool(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(
        {
            "index.py": """
                import time
                def handler(event, context):
                    time.sleep(float(event or 0))
                    return "done"
            """
        }
    )
    first = await runtime.invoke(spec, InvokeRequest("cx-0", b""))
    task = asyncio.create_task(runtime.invoke(spec, InvokeRequest("cx-1", b"5")))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await runtime.invoke(spec, InvokeRequest("cx-2", b""))
    assert after.body == b"done"
    assert after.instance_id != first.instance_id

"""Custom runtimes: a stdlib HTTP server spoken to with FC's custom-runtime protocol."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from service.emulator.runtime.contract import (
    CustomRuntime,
    FunctionSpec,
    HttpRequest,
    InvokeRequest,
    Throttled,
)
from service.emulator.runtime.manager import ProcessRuntime

SpecFactory = Callable[..., FunctionSpec]

SERVER = {
    "server.py": """
        import json, os, sys, time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        STATE = {"initialized": 0}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, payload, extra=()):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self):
                body = self._body()
                if self.path == "/initialize":
                    STATE["initialized"] += 1
                    print("init called", flush=True)
                    return self._reply(200, {})
                if self.path == "/invoke":
                    text = body.decode()
                    print("invoke", self.headers["x-fc-request-id"], flush=True)
                    if text.startswith("sleep:"):
                        time.sleep(float(text[6:]))
                    if text == "die":
                        os._exit(1)
                    if text == "fail":
                        return self._reply(500, {"oops": 1}, [("x-fc-status", "404")])
                    fc = {k: v for k, v in self.headers.items() if k.lower().startswith("x-fc-")}
                    return self._reply(200, {"body": text, "pid": os.getpid(), "fc": fc,
                                             "init": STATE["initialized"],
                                             "port": os.environ["FC_CUSTOM_LISTEN_PORT"]})
                return self._passthrough(body)

            def do_GET(self):
                if self.path == "/health":
                    return self._reply(200, {"healthy": True})
                if self.path == "/pre-stop":
                    with open(os.environ["MARKER"], "w") as f:
                        f.write("pre-stop called")
                    return self._reply(200, {})
                return self._passthrough(self._body())

            do_PUT = do_DELETE = do_POST

            def _passthrough(self, body):
                return self._reply(
                    207,
                    {"method": self.command, "path": self.path, "body": body.decode(),
                     "headers": {k.lower(): v for k, v in self.headers.items()}},
                    [("X-From-Server", "1")],
                )

        ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """
}


@pytest.fixture
def custom_spec(make_spec: SpecFactory, tmp_path: Path) -> Callable[..., FunctionSpec]:
    def factory(**overrides: object) -> FunctionSpec:
        fields: dict[str, object] = {
            "runtime": "custom.debian12",
            "handler": "index.handler",
            "custom_runtime": CustomRuntime(
                command=["python3"], args=["/code/server.py", "9000"], port=9000
            ),
            "environment": {"MARKER": str(tmp_path / "marker.txt")},
        }
        fields.update(overrides)
        return make_spec(SERVER, **fields)

    return factory


async def test_invoke_uses_fc_protocol_and_headers(
    runtime: ProcessRuntime, custom_spec: Callable[..., FunctionSpec]
) -> None:
    spec = custom_spec(memory_mb=512, timeout_s=9, qualifier="prod", version_id="4")
    first = await runtime.invoke(spec, InvokeRequest("cr-1", b"hello"))
    assert first.status == 200
    assert first.error_type is None
    assert first.cold_start
    body = json.loads(first.body)
    assert body["body"] == "hello"
    assert body["port"] == "9000"  # the configured port, as on FC: the sandbox's own network
    fc = {k.lower(): v for k, v in body["fc"].items()}
    assert fc["x-fc-request-id"] == "cr-1"
    assert fc["x-fc-function-name"] == spec.name
    assert fc["x-fc-function-handler"] == "index.handler"
    assert (fc["x-fc-function-memory"], fc["x-fc-function-timeout"]) == ("512", "9")
    assert (fc["x-fc-qualifier"], fc["x-fc-version-id"]) == ("prod", "4")
    assert fc["x-fc-instance-id"] == first.instance_id
    assert fc["x-fc-control-path"] == "/invoke"
    for name in ("x-fc-region", "x-fc-account-id", "x-fc-access-key-id", "x-fc-security-token"):
        assert name in fc
    assert "invoke cr-1" in first.log.decode()
    assert first.log.decode().splitlines()[-1].startswith("Duration: ")
    second = await runtime.invoke(spec, InvokeRequest("cr-2", b"again"))
    assert not second.cold_start
    assert json.loads(second.body)["pid"] == body["pid"]
    [info] = runtime.instances(spec.name)
    assert "custom.debian12" in info.interpreter


async def test_instance_concurrency_and_scale_out(
    runtime: ProcessRuntime, custom_spec: Callable[..., FunctionSpec]
) -> None:
    spec = custom_spec(instance_concurrency=3)
    await runtime.invoke(spec, InvokeRequest("warm", b"x"))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(runtime.invoke(spec, InvokeRequest(f"cc-{i}", b"sleep:1.0")) for i in range(3))
    )
    assert time.perf_counter() - started < 2.5  # side by side (one by one: >= 3 s)
    assert len({r.instance_id for r in results}) == 1
    more = await asyncio.gather(
        *(runtime.invoke(spec, InvokeRequest(f"cm-{i}", b"sleep:0.5")) for i in range(4))
    )
    assert len({r.instance_id for r in more}) == 2  # the 4th request needs a second instance


async def test_custom_runtime_throttles_beyond_reserved(
    runtime: ProcessRuntime, custom_spec: Callable[..., FunctionSpec]
) -> None:
    spec = custom_spec(instance_concurrency=2, reserved_concurrency=1)
    busy = [
        asyncio.create_task(runtime.invoke(spec, InvokeRequest(f"t-{i}", b"sleep:0.5")))
        for i in range(2)
    ]
    await asyncio.sleep(0.2)
    with pytest.raises(Throttled):
        await runtime.invoke(spec, InvokeRequest("t-x", b""))
    assert all(r.error_type is None for r in await asyncio.gather(*busy))


async def test_http_requests_are_proxied(
    runtime: ProcessRuntime, custom_spec: Callable[..., FunctionSpec]
) -> None:
    spec = custom_spec()
    request = HttpRequest(
        request_id="h-1",
        method="PUT",
        raw_path="/items/a%2Fb",
        query=[("k", "1"), ("k", "2")],
        headers=[("X-Custom", "yes"), ("Host", "abc.fcapp.run"), ("Content-Length", "4")],
        body=b"data",
        source_ip="1.2.3.4",
        domain_name="abc.fcapp.run",
    )
    result = await runtime.invoke_http(spec, request)
    assert result.status == 207
    assert result.error_type is None
    assert ("x-from-server", "1") in [(k.lower(), v) for k, v in result.headers]
    echoed = json.loads(result.body)
    assert echoed["method"] == "PUT"
    assert echoed["path"] == "/items/a%2Fb?k=1&k=2"
    assert echoed["body"] == "data"
    assert echoed["headers"]["x-custom"] == "yes"
    assert echoed["headers"]["x-fc-request-id"] == "h-1"


async def test_lifecycle_hooks(
    unsafe_runtime: ProcessRuntime, custom_spec: Callable[..., FunctionSpec], tmp_path: Path
) -> None:
    # Unsandboxed so the pre-stop hook can leave its mark on the host; the
    # protocol (POST /initialize, GET /pre-stop) is the same in the sandbox.
    runtime = unsafe_runtime
    spec = custom_spec(initializer="index.init", pre_stop="index.pre_stop")
    result = await runtime.invoke(spec, InvokeRequest("lc-1", b""))
    assert json.loads(result.body)["init"] == 1
    assert "init called" in result.log.decode()
    await runtime.drop_function(spec.name)
    assert (tmp_path / "marker.txt").read_text() == "pre-stop called"


async def test_errors_crash_and_timeout(
    runtime: ProcessRuntime, custom_spec: Callable[..., FunctionSpec]
) -> None:
    spec = custom_spec(timeout_s=1)
    failed = await runtime.invoke(spec, InvokeRequest("e-1", b"fail"))
    assert failed.status == 200
    assert failed.error_type == "UnhandledInvocationError"
    crashed = await runtime.invoke(spec, InvokeRequest("e-2", b"die"))
    assert crashed.error_type == "UnhandledInvocationError"
    assert "Process exited unexpectedly" in json.loads(crashed.body)["errorMessage"]
    started = time.perf_counter()
    slow = await runtime.invoke(spec, InvokeRequest("e-3", b"sleep:5"))
    assert time.perf_counter() - started < 3
    assert json.loads(slow.body)["errorMessage"] == "Function time out after 1 seconds"
    fine = await runtime.invoke(spec, InvokeRequest("e-4", b"ok"))
    assert fine.error_type is None
    assert fine.cold_start


async def test_server_that_never_starts(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {"boot.py": "import sys\nprint('bad config', flush=True)\nsys.exit(2)\n"},
        runtime="custom.debian10",
        custom_runtime=CustomRuntime(command=["python3", "boot.py"], args=[]),
    )
    result = await runtime.invoke(spec, InvokeRequest("ns-1", b""))
    assert result.error_type == "UnhandledInvocationError"
    assert result.cold_start
    assert "bad config" in result.log.decode()


async def test_health_check_url_gates_readiness(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(
        SERVER,
        runtime="custom.debian11",
        custom_runtime=CustomRuntime(
            command=["python3", "server.py"],
            args=["9000"],
            port=9000,
            health_check_url="/health",
        ),
    )
    result = await runtime.invoke(spec, InvokeRequest("hc-1", b"ready?"))
    assert json.loads(result.body)["body"] == "ready?"

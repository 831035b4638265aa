"""Emulator fixtures: a live emulator (real ProcessRuntime) on a free loopback port, SDK clients.

Every test drives the official SDK over real HTTP against an emulator that runs
function code in real OS processes. One emulator serves a whole test module;
the ``emulator`` fixture resets it (faults, metrics, logs and every resource,
which stops their instances) before each test. A module that needs other
emulator settings overrides ``emulator_settings``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_openapi.utils import Utils
from darabonba.runtime import RuntimeOptions

from service.emulator.credentials import admin_bearer
from service.emulator.server import EmbeddedEmulator, start_in_thread
from service.emulator.settings import EmulatorSettings
from tests.emulator.beacon import Beacon

AK = "test-ak"
SK = "test-secret-0123456789"
ADMIN_HEADERS = {"Authorization": f"Bearer {admin_bearer(AK, SK)}"}
ECHO_PY = "def handler(event, context):\n    return event\n"
RAISE_PY = "def handler(event, context):\n    raise Exception('boom')\n"
# Sleeps for the number of seconds in the payload (none: 0), then returns "done".
SLEEP_PY = """
import time

def handler(event, context):
    time.sleep(float(event or 0))
    return "done"
"""
# Signals the Beacon on the payload's "port" (the handler is running), then sleeps.
RUNNING_PY = """
import json
import socket
import time

def handler(event, context):
    job = json.loads(event)
    socket.create_connection(("127.0.0.1", job["port"])).close()
    time.sleep(job["sleep"])
    return "done"
"""
# Reports what the function instance really got: its context, environment and code.
CONTEXT_PY = """
import json
import os

def handler(event, context):
    fn = context.function
    return json.dumps({
        "requestId": context.request_id,
        "name": fn.name,
        "qualifier": fn.qualifier,
        "versionId": fn.version_id,
        "timeout": fn.timeout,
        "memory": fn.memory,
        "envVersion": os.environ["FC_FUNCTION_VERSION"],
        "codeFiles": sorted(os.listdir(os.environ["FC_FUNC_CODE_PATH"])),
        "payload": event.decode(),
    })
"""
# For HTTP triggers: answers 201, echoes the body and reports the event it got in x-echo.
HTTP_ECHO_PY = """
import json

def handler(event, context):
    req = json.loads(event)
    http = req["requestContext"]["http"]
    seen = {
        "function": context.function.name,
        "qualifier": context.function.qualifier,
        "versionId": context.function.version_id,
        "method": http["method"],
        "query": req["queryParameters"],
        "headers": req["headers"],
        "domainName": req["requestContext"]["domainName"],
        "sourceIp": http["sourceIp"],
        "requestId": req["requestContext"]["requestId"],
    }
    return {
        "statusCode": 201,
        "headers": {
            "content-type": "text/plain",
            "x-echo-path": req["rawPath"],
            "x-echo": json.dumps(seen),
        },
        "isBase64Encoded": req["isBase64Encoded"],
        "body": req["body"],
    }
"""


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def code_of(source: str, **files: str | bytes) -> fc_models.InputCodeLocation:
    """A code location whose ``index.py`` is ``source`` (plus any other files)."""
    return fc_models.InputCodeLocation(zip_file=b64(make_zip({"index.py": source, **files})))


def sdk_client(emu: EmbeddedEmulator, ak: str = AK, sk: str = SK) -> Client:
    return Client(
        Config(
            access_key_id=ak,
            access_key_secret=sk,
            region_id="cn-hangzhou",
            endpoint=emu.endpoint,
            protocol="http",
            read_timeout=30000,
        )
    )


def function_input(name: str, **overrides: Any) -> fc_models.CreateFunctionInput:
    fields: dict[str, Any] = {
        "function_name": name,
        "runtime": "python3.10",
        "handler": "index.handler",
        "code": fc_models.InputCodeLocation(zip_file=b64(make_zip({"index.py": ECHO_PY}))),
    }
    fields.update(overrides)
    return fc_models.CreateFunctionInput(**fields)


def create_function(client: Client, name: str, **overrides: Any) -> Any:
    request = fc_models.CreateFunctionRequest(body=function_input(name, **overrides))
    return client.create_function(request).body


def invoke(
    client: Client, name: str, payload: bytes = b"hi", **headers: Any
) -> fc_models.InvokeFunctionResponse:
    """InvokeFunction through the SDK; ``qualifier`` and any x-fc-* header as keywords."""
    qualifier = headers.pop("qualifier", None)
    return client.invoke_function_with_options(
        name,
        fc_models.InvokeFunctionRequest(body=payload, qualifier=qualifier),
        fc_models.InvokeFunctionHeaders(**headers),
        RuntimeOptions(),
    )


# One client for the helpers' plain-HTTP calls: a new httpx client loads the CA bundle
# (~30 ms), which every test's reset would otherwise pay several times.
_HTTP = httpx.Client(timeout=30)


@pytest.fixture(scope="session", autouse=True)
def _close_http_client() -> Iterator[None]:
    yield
    _HTTP.close()


def admin(emu: EmbeddedEmulator, method: str, path: str, json: object = None) -> httpx.Response:
    return _HTTP.request(method, f"{emu.url}/_emulator/{path}", json=json, headers=ADMIN_HEADERS)


def instances(emu: EmbeddedEmulator, function_name: str) -> list[dict[str, Any]]:
    """Running instances as the runtime reports them (admin API)."""
    found = admin(emu, "GET", f"instances?functionName={function_name}").json()["instances"]
    return list(found)


def instances_all(emu: EmbeddedEmulator) -> list[dict[str, Any]]:
    return list(admin(emu, "GET", "instances").json()["instances"])


def running_job(beacon: Beacon, sleep_s: float) -> bytes:
    """A RUNNING_PY payload."""
    return json.dumps({"port": beacon.port, "sleep": sleep_s}).encode()


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.02)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def signed_headers(
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    host: str,
    ak: str = AK,
    sk: str = SK,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers signed by the SDK's own signer (not the emulator's), for raw requests."""
    headers = {
        "host": host,
        "x-acs-version": "2023-03-30",
        "x-acs-action": "Raw",
        "x-acs-date": Utils.get_timestamp(),
        "x-acs-signature-nonce": Utils.get_nonce(),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "content-type": "application/json; charset=utf-8",
        **(extra or {}),
    }
    request = SimpleNamespace(method=method, pathname=path, query=query or {}, headers=headers)
    headers["Authorization"] = Utils.get_authorization(
        request, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"], ak, sk
    )
    return headers


def raw_call(
    emu: EmbeddedEmulator,
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: bytes = b"",
) -> httpx.Response:
    headers = signed_headers(method, path, query, body, host=emu.endpoint)
    qs = "&".join(f"{k}={quote(v, safe='')}" for k, v in (query or {}).items())
    url = f"{emu.url}{path}" + (f"?{qs}" if qs else "")
    return _HTTP.request(method, url, headers=headers, content=body)


def start(
    tmp_path: Path,
    keys: dict[str, str] | None = None,
    *,
    no_auth: bool = False,
    **settings: Any,
) -> EmbeddedEmulator:
    """An emulator with the real process runtime; ``settings`` are EmulatorSettings fields."""
    access_keys = None if no_auth else (keys or {AK: SK})
    config = EmulatorSettings(
        data_dir=tmp_path / "emulator-data", access_keys=access_keys, **settings
    )
    return start_in_thread("127.0.0.1", 0, config.data_dir, access_keys, settings=config)


@pytest.fixture(scope="module")
def emulator_settings() -> dict[str, Any]:
    """EmulatorSettings overrides for the module's emulator; override in a module to change."""
    return {}


@pytest.fixture(scope="module")
def shared_emulator(
    tmp_path_factory: pytest.TempPathFactory, emulator_settings: dict[str, Any]
) -> Iterator[EmbeddedEmulator]:
    emu = start(tmp_path_factory.mktemp("emulator"), **emulator_settings)
    yield emu
    emu.stop()


@pytest.fixture
def emulator(shared_emulator: EmbeddedEmulator) -> EmbeddedEmulator:
    """The module's emulator, reset: no faults, metrics, logs, resources or instances."""
    response = admin(shared_emulator, "POST", "reset", {"state": True})
    assert response.status_code == 200, response.text
    wait_for("instances of the previous test to stop", lambda: not instances_all(shared_emulator))
    return shared_emulator


@pytest.fixture
def fc(emulator: EmbeddedEmulator) -> Client:
    return sdk_client(emulator)

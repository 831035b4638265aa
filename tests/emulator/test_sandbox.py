"""The sandbox as an FC user meets it: port 9000 for everyone, FC's import path, role
credentials, authenticated admin API, runtimes the emulator cannot run."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from service.emulator.credentials import admin_bearer
from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import (
    AK,
    SK,
    b64,
    code_of,
    create_function,
    instances,
    invoke,
    make_zip,
    signed_headers,
)

SERVER = """
import http.server, os, time

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        time.sleep(0.3)  # long enough for concurrent requests to need several instances
        reply = f"{os.environ['WHO']}:{os.environ['FC_CUSTOM_LISTEN_PORT']}:{body.decode()}"
        self.send_response(200)
        self.end_headers()
        self.wfile.write(reply.encode())

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("0.0.0.0", 9000), Handler).serve_forever()
"""


@pytest.fixture(scope="module")
def emulator_settings() -> dict[str, Any]:
    return {"custom_runtime_startup_timeout_s": 3.0}


def _custom(fc: Client, name: str, **overrides: Any) -> None:
    fields: dict[str, Any] = {
        "runtime": "custom.debian12",
        "code": fc_models.InputCodeLocation(zip_file=b64(make_zip({"server.py": SERVER}))),
        "custom_runtime_config": fc_models.CustomRuntimeConfig(
            command=["python3", "server.py"], port=9000
        ),
        "environment_variables": {"WHO": name},
        "instance_concurrency": 1,
    }
    fields.update(overrides)
    create_function(fc, name, **fields)


def test_two_custom_runtimes_listen_on_9000_with_several_instances_each(
    fc: Client, emulator: EmbeddedEmulator
) -> None:
    _custom(fc, "alpha")
    _custom(fc, "beta")
    calls = [(name, f"{name}-{i}") for name in ("alpha", "beta") for i in range(3)]
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(
            pool.map(lambda c: invoke(sdk_client_for(emulator), c[0], c[1].encode()), calls)
        )
    for (name, payload), answer in zip(calls, answers, strict=True):
        assert answer.headers.get("x-fc-error-type") is None, answer.body.read()
        assert answer.body.read() == f"{name}:9000:{payload}".encode()
    for name in ("alpha", "beta"):
        served_by = {
            a.headers["x-fc-instance-id"]
            for (n, _), a in zip(calls, answers, strict=True)
            if n == name
        }
        assert len(served_by) >= 2  # concurrent instances, all on port 9000
        assert len(instances(emulator, name)) >= 2


def sdk_client_for(emulator: EmbeddedEmulator) -> Client:
    return Client(
        Config(
            access_key_id=AK,
            access_key_secret=SK,
            region_id="cn-hangzhou",
            endpoint=emulator.endpoint,
            protocol="http",
            read_timeout=30000,
        )
    )


def test_a_server_that_never_listens_fails_with_fcs_error(fc: Client) -> None:
    never = "import time\nprint('warming up forever', flush=True)\ntime.sleep(600)\n"
    _custom(
        fc,
        "mute",
        code=fc_models.InputCodeLocation(zip_file=b64(make_zip({"server.py": never}))),
    )
    answer = invoke(fc, "mute", x_fc_log_type="Tail")
    assert answer.headers["x-fc-error-type"] == "UnhandledInvocationError"
    message = json.loads(answer.body.read())["errorMessage"]
    assert message == "Function instance health check failed on port 9000 in 3 seconds."
    assert "warming up forever" in base64.b64decode(answer.headers["x-fc-log-result"]).decode()


def test_a_zip_without_its_dependencies_cannot_import_them(fc: Client) -> None:
    # httpx and requests are installed where the emulator runs; FC would not have them.
    source = "import httpx\n\ndef handler(event, context):\n    return 'unreachable'\n"
    create_function(fc, "deps", code=code_of(source))
    answer = invoke(fc, "deps", x_fc_log_type="Tail")
    assert answer.headers["x-fc-error-type"] == "UnhandledInvocationError"
    error = json.loads(answer.body.read())
    assert error["errorType"] == "ModuleNotFoundError"
    assert error["errorMessage"] == "Unable to import module 'index': No module named 'httpx'"
    assert error["stackTrace"][-1][0] == "/code/index.py"


def test_tracebacks_name_code_paths_and_reach_the_tail_log(fc: Client) -> None:
    source = "def handler(event, context):\n    raise ValueError('bad input')\n"
    create_function(fc, "raiser", code=code_of(source))
    answer = invoke(fc, "raiser", x_fc_log_type="Tail")
    error = json.loads(answer.body.read())
    assert error["stackTrace"] == [
        ["/code/index.py", 2, "handler", "raise ValueError('bad input')"]
    ]
    log = base64.b64decode(answer.headers["x-fc-log-result"]).decode()
    assert "[ERROR] Traceback (most recent call last):" in log
    assert 'File "/code/index.py", line 2, in handler' in log
    assert "ValueError: bad input" in log
    assert "bootstrap" not in log  # the emulator's own frames are not the user's business


ROLE_PY = """
import json, os

def handler(event, context):
    c = context.credentials
    return json.dumps({
        "context": [c.access_key_id, c.access_key_secret, c.security_token],
        "env": [os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
                os.environ["ALIBABA_CLOUD_SECURITY_TOKEN"]],
    })
"""


def test_a_role_gives_local_credentials_that_work_on_the_fc_api_only(
    fc: Client, emulator: EmbeddedEmulator
) -> None:
    create_function(fc, "roled", code=code_of(ROLE_PY), role="acs:ram::1234567890:role/fc")
    seen = json.loads(invoke(fc, "roled").body.read())
    key_id, secret, token = seen["context"]
    assert seen["env"] == seen["context"]
    assert key_id.startswith("STS.fcplane-local.")
    assert secret
    assert token
    # The function's credentials call FC's API, as a role's would...
    as_role = Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            security_token=token,
            region_id="cn-hangzhou",
            endpoint=emulator.endpoint,
            protocol="http",
        )
    )
    got = as_role.get_function("roled", fc_models.GetFunctionRequest()).body
    assert got.function_name == "roled"
    # ...but only with their token, and never on the emulator's admin API.
    tokenless = Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            region_id="cn-hangzhou",
            endpoint=emulator.endpoint,
            protocol="http",
        )
    )
    with pytest.raises(ClientException) as refused:
        tokenless.get_function("roled", fc_models.GetFunctionRequest())
    assert refused.value.code == "InvalidSecurityToken"
    path = "/_emulator/health"
    signed = signed_headers("GET", path, host=emulator.endpoint, ak=key_id, sk=secret)
    signed["x-acs-security-token"] = token
    assert httpx.get(f"{emulator.url}{path}", headers=signed).status_code == 403
    again = json.loads(invoke(fc, "roled").body.read())
    assert again["context"] == seen["context"]  # stable for the function


def test_the_admin_api_needs_the_emulators_credentials(emulator: EmbeddedEmulator) -> None:
    url = f"{emulator.url}/_emulator/health"
    assert httpx.get(url).status_code == 403
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}).status_code == 403
    forged = admin_bearer(AK, "not-the-secret")
    assert httpx.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 403
    good = httpx.get(url, headers={"Authorization": f"Bearer {admin_bearer(AK, SK)}"})
    assert good.status_code == 200
    health = good.json()
    assert health["sandbox"]["enabled"] is True
    assert health["sandbox"]["mode"] == "bubblewrap"
    signed = signed_headers("GET", "/_emulator/health", host=emulator.endpoint)
    assert httpx.get(url, headers=signed).status_code == 200
    assert httpx.post(f"{emulator.url}/_emulator/reset").status_code == 403


@pytest.mark.parametrize("runtime", ["nodejs20", "custom-container", "java11"])
def test_a_runtime_the_emulator_cannot_run_is_created_and_says_so(fc: Client, runtime: str) -> None:
    extra: dict[str, Any] = {"runtime": runtime}
    if runtime == "custom-container":
        extra["code"] = None
        extra["custom_container_config"] = fc_models.CustomContainerConfig(image="x/y:1")
    created = create_function(fc, "other", **extra)
    reason = f"runtime {runtime} is not supported by the local emulator"
    assert created.state == "Failed"
    assert created.state_reason.startswith(reason)
    assert created.last_update_status_reason.startswith(reason)
    assert created.state_reason_code == "RuntimeNotSupported"
    answer = invoke(fc, "other")
    assert answer.headers["x-fc-error-type"] == "RuntimeNotSupported"
    assert json.loads(answer.body.read())["errorMessage"].startswith(reason)

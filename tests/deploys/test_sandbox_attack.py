"""The attack from issue 10, as a test: a function deployed through fcplane with a deploy-scope
token tries to reach fcplane's secrets, the emulator's store and other functions' code.

fcplane serves over real HTTP (uvicorn in a thread) so the function can try its API;
the emulator is the deploy tests' live one. Every attempt is reported by the handler
and asserted on its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from darabonba.runtime import RuntimeOptions

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.kit.settings import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.deploys.conftest import make_zip
from tests.emulator.beacon import Beacon
from tests.fc import register_account

ATTACKER = r"""
import json, os, socket, sys, time, urllib.request

def attempt(fn):
    try:
        return {"ok": True, "got": str(fn())[:500]}
    except BaseException as exc:
        return {"ok": False, "error": type(exc).__name__ + ": " + str(exc)[:300]}

def read(path):
    with open(path, "rb") as f:
        return f.read()

def call(url, token):
    headers = {"Authorization": "Bearer " + token} if token else {}
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code

def escape(port):
    # setsid + double fork: a daemon that phones home for as long as it lives.
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for _ in range(600):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                except OSError:
                    pass
                time.sleep(0.1)
        os._exit(0)

def handler(event, context):
    job = json.loads(event)
    if job["op"] == "escape":
        escape(job["beacon"])
        time.sleep(30)  # past the function's timeout
        return "still here"
    found = {k: v for k, v in os.environ.items() if "KEY" in k or "TOKEN" in k or "SECRET" in k}
    tokens = [v for v in found.values() if v]
    r = {}
    r["parent_environ"] = attempt(lambda: read(f"/proc/{os.getppid()}/environ"))
    r["pid1_environ"] = attempt(lambda: read("/proc/1/environ"))
    r["list_data_dir"] = attempt(lambda: os.listdir(job["data_dir"]))
    r["read_database"] = attempt(lambda: read(job["data_dir"] + "/fcplane.db"))
    r["list_emulator_store"] = attempt(lambda: os.listdir(job["emulator_dir"]))
    r["read_emulator_store"] = attempt(lambda: read(job["emulator_dir"] + "/emulator.sqlite3"))
    r["read_other_code"] = attempt(lambda: read(job["victim_code"]))
    # Everything but /proc and the runtime's own read-only files (/usr, the interpreter).
    skip = f"-path /proc -prune -o -path /usr -prune -o -path {sys.base_prefix} -prune"
    found_code = os.popen(f"find / {skip} -o -name index.py -print 2>/dev/null")
    others = [p for p in found_code.read().split() if not p.startswith("/code/")]
    r["find_other_code"] = attempt(lambda: others or 1 / 0)
    r["write_code"] = attempt(lambda: open("/code/index.py", "a").write("# owned"))
    mounts = [line.split() for line in open("/proc/self/mountinfo")]
    r["code_mount"] = [m[5] for m in mounts if m[4] == "/code"]
    for name in ("fastapi", "httpx", "service"):
        r["import_" + name] = attempt(lambda: __import__(name))
    r["emulator_admin"] = attempt(
        lambda: [call(job["emulator"] + "/_emulator/health", t) for t in tokens or [""]]
    )
    r["fcplane_admin"] = attempt(
        lambda: [call(job["fcplane"] + "/v1/tokens", t) for t in tokens or [""]]
    )
    r["env"] = sorted(os.environ)
    return json.dumps(r)
"""


@pytest.fixture
def live_fcplane(database_url: str, tmp_path: Path, admin_token: str) -> Iterator[tuple[str, Path]]:
    """fcplane over real HTTP on a free loopback port; yields (base URL, data dir)."""
    data_dir = tmp_path / "fcplane-data"
    app = create_app(
        Settings(
            database_url=database_url,
            data_dir=data_dir,
            secret_key=TEST_SECRET_KEY,
            bootstrap_token=admin_token,
        )
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "fcplane did not start"
        assert thread.is_alive(), "fcplane exited"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", data_dir
    server.should_exit = True
    thread.join(timeout=30)


async def _deploy(http: httpx.AsyncClient, name: str, source: str, **config: Any) -> None:
    data = make_zip(source)
    sha = hashlib.sha256(data).hexdigest()
    uploaded = await http.put(
        f"/v1/code-packages/{sha}", content=data, headers={"content-type": "application/zip"}
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    registered = await http.post("/v1/accounts/local/functions", json={"name": name})
    assert registered.status_code == 201, registered.text
    body = {
        "config": {"runtime": "python3.10", "handler": "index.handler", **config},
        "code_sha256": sha,
    }
    deployed = await http.post(f"/v1/accounts/local/functions/{name}/deployments", json=body)
    assert deployed.status_code == 201, deployed.text


def _invoke(fc: Client, name: str, payload: dict[str, Any]) -> tuple[Any, str]:
    response = fc.invoke_function_with_options(
        name,
        fc_models.InvokeFunctionRequest(body=json.dumps(payload).encode()),
        fc_models.InvokeFunctionHeaders(x_fc_log_type="Tail"),
        RuntimeOptions(read_timeout=60000),
    )
    log = base64.b64decode(response.headers.get("x-fc-log-result", "")).decode()
    return response, log


async def test_a_deployed_function_cannot_reach_fcplane_or_other_functions(
    live_fcplane: tuple[str, Path], admin_token: str, emulator: EmbeddedEmulator, fc: Client
) -> None:
    base_url, data_dir = live_fcplane
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60
    ) as admin:
        await register_account(admin, emulator)
        minted = await admin.post("/v1/tokens", json={"name": "ci", "scopes": ["deploy"]})
        assert minted.status_code == 201, minted.text
        deploy_token = minted.json()["token"]
        await _deploy(admin, "victim", "def handler(event, context):\n    return 'v'\n")
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {deploy_token}"}, timeout=60
    ) as attacker:
        await _deploy(attacker, "attacker", ATTACKER, timeout=4, memorySize=256, cpu=0.25)

    emulator_dir = emulator.app.settings.data_dir
    assert _invoke(fc, "victim", {})[0].body.read() == b"v"  # its code is unpacked in the store now
    victim = fc.get_function("victim", fc_models.GetFunctionRequest()).body
    victim_code = next(
        p for p in (emulator_dir / "runtime").rglob("index.py") if victim.code_checksum in str(p)
    )
    job = {
        "op": "probe",
        "data_dir": str(data_dir.resolve()),
        "emulator_dir": str(emulator_dir.resolve()),
        "victim_code": str(victim_code),
        "emulator": emulator.url,
        "fcplane": base_url,
    }
    response, log = _invoke(fc, "attacker", job)
    body = response.body.read()
    assert response.headers.get("x-fc-error-type") is None, (body, log)
    r = json.loads(body)

    # Parent's and PID 1's environment (where FCPLANE_SECRET_KEY lived): unreadable.
    _blocked(r, "parent_environ", "PermissionError")
    _blocked(r, "pid1_environ", "PermissionError")
    # fcplane's data dir and the emulator's store do not exist in the sandbox.
    _blocked(r, "list_data_dir", "FileNotFoundError")
    _blocked(r, "read_database", "FileNotFoundError")
    _blocked(r, "list_emulator_store", "FileNotFoundError")
    _blocked(r, "read_emulator_store", "FileNotFoundError")
    # Another function's code: neither at its host path nor anywhere else.
    _blocked(r, "read_other_code", "FileNotFoundError")
    _blocked(r, "find_other_code", "ZeroDivisionError")  # found nothing
    # /code is not writable: owned by root, and a read-only mount on top.
    _blocked(r, "write_code", "PermissionError")
    assert r["code_mount"]
    assert all("ro" in options.split(",") for options in r["code_mount"])
    # Only FC's import path: the emulator's packages and the project are not importable.
    for name in ("fastapi", "httpx", "service"):
        _blocked(r, f"import_{name}", "ModuleNotFoundError")
    # Whatever it found opens neither the emulator's admin API nor fcplane's.
    assert r["emulator_admin"]["ok"] is True
    assert set(json.loads(r["emulator_admin"]["got"])) == {403}
    assert r["fcplane_admin"]["ok"] is True
    assert set(json.loads(r["fcplane_admin"]["got"])) == {401}
    assert not [k for k in r["env"] if k.startswith("FCPLANE") or k == "VIRTUAL_ENV"]
    assert (emulator_dir / "runtime").exists()  # the store is still there, unchanged
    assert victim_code.read_text() == "def handler(event, context):\n    return 'v'\n"

    # A setsid + double-fork daemon dies with the instance at the timeout.
    beacon = Beacon()
    response, _ = _invoke(fc, "attacker", {"op": "escape", "beacon": beacon.port})
    assert response.headers.get("x-fc-error-type") == "UnhandledInvocationError"
    assert json.loads(response.body.read())["errorMessage"] == "Function time out after 4 seconds"
    assert beacon.messages, "the daemon never started, so the test proves nothing"
    time.sleep(0.5)  # a connection already in flight may still land
    heard = len(beacon.messages)
    time.sleep(1.5)
    assert len(beacon.messages) == heard, "a process of the killed instance is still running"
    beacon.close()


def _blocked(results: dict[str, Any], attempt: str, error: str) -> None:
    outcome = results[attempt]
    assert outcome["ok"] is False, f"{attempt} succeeded: {outcome}"
    assert error in outcome["error"], f"{attempt}: {outcome}"

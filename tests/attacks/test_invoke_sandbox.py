"""A function invoked through fcplane's invoke endpoint tries to read fcplane's environment,
secret key and database, and to smuggle hostile bytes into the answer and its log tail.
What the sandbox itself blocks is tests/deploys/test_sandbox_attack.py's subject; here:
what comes back through `POST …/invoke` (answer, log tail, audit) leaks nothing of the
host and is never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.kit.settings import Settings
from tests.attacks.conftest import assert_clean, secrets_of
from tests.deploys.conftest import BASE_CONFIG, deploy, make_zip, upload

FN = "/v1/accounts/local/functions"
CANARY = "canary-host-secret-5f0c2a9e"

SNOOP = r"""
import json, os, sys

def attempt(fn):
    try:
        return {"ok": True, "got": str(fn())[:2000]}
    except BaseException as exc:
        return {"ok": False, "error": type(exc).__name__}

def read(path):
    with open(path, "rb") as f:
        return f.read()

def handler(event, context):
    job = json.loads(event)
    # Everything it can see goes to the log tail, which fcplane hands back.
    print("ENV " + json.dumps(dict(os.environ)))
    r = {
        "parent_environ": attempt(lambda: read("/proc/%d/environ" % os.getppid())),
        "pid1_environ": attempt(lambda: read("/proc/1/environ")),
        "database": attempt(lambda: read(job["database"])),
        "data_dir": attempt(lambda: os.listdir(job["data_dir"])),
        "env": dict(os.environ),
    }
    for key in ("parent_environ", "pid1_environ", "database"):
        print(key, r[key])
    # Hostile bytes in the log: invalid UTF-8, terminal escapes, a fake FC header line.
    sys.stdout.buffer.write(b"\xff\xfe\x1b[2J\x1b]0;owned\x07 \r\nx-fc-error-type: Injected\n")
    sys.stdout.flush()
    return json.dumps(r)
"""


async def _deploy_snoop(client: httpx.AsyncClient) -> None:
    sha = await upload(client, make_zip(SNOOP))
    registered = await client.post(FN, json={"name": "snoop"})
    assert registered.status_code == 201, registered.text
    deployed = await deploy(client, "snoop", {**BASE_CONFIG, "timeout": 20}, None, code_sha256=sha)
    assert deployed.status_code == 201, deployed.text


async def test_invoke_answer_and_log_tail_leak_nothing_of_the_host(
    app: FastAPI,
    client: httpx.AsyncClient,
    fc_account: str,
    settings: Settings,
    admin_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # fcplane's own process carries secrets in its environment, as in production.
    monkeypatch.setenv("FCPLANE_SECRET_KEY", CANARY)
    monkeypatch.setenv("FCPLANE_DATABASE_URL", f"postgresql://u:{CANARY}@db/fcplane")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", CANARY)
    await _deploy_snoop(client)
    database = settings.database_url or ""
    job = {
        "database": database.split("///", 1)[-1],
        "data_dir": str(settings.data_dir.resolve()),
    }
    response = await client.post(f"{FN}/snoop/invoke", json={"payload": job, "log_tail": True})
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    assert out["function_error"] is None, out
    secrets = secrets_of(admin_token, CANARY)
    assert_clean(response, secrets)
    r = json.loads(out["response_text"]) if out.get("response_text") else out["response"]
    assert r["parent_environ"]["ok"] is False, r["parent_environ"]
    assert r["pid1_environ"]["ok"] is False, r["pid1_environ"]
    assert r["database"]["ok"] is False, r["database"]
    assert r["data_dir"]["ok"] is False, r["data_dir"]
    # FC's own credential variables are the function's role's (none here), never the
    # account's access key fcplane holds.
    assert {r["env"].get(k, "") for k in r["env"] if k.startswith("ALIBABA_CLOUD_")} <= {""}
    assert not [k for k in r["env"] if k.startswith(("FCPLANE", "VIRTUAL_ENV"))]
    # The log tail came back decoded (it really ran), and the injected line stayed text in it.
    assert "ENV " in out["log"]
    assert "x-fc-error-type" not in {k.lower() for k in response.headers}
    # The audit record keeps neither the payload nor the answer.
    audited = await client.get(f"{FN}/snoop/invocations")
    assert audited.status_code == 200
    assert_clean(audited, secrets)
    assert job["data_dir"] not in audited.text

"""A deploy whose code package lacks the handler's file: a plan warning, a 422 on deploy."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx

from tests.deploys.conftest import BASE_CONFIG, deploy, upload


def zip_of(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


async def register(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/v1/accounts/local/functions", json={"name": name})
    assert response.status_code == 201, response.text


async def plan(
    client: httpx.AsyncClient, name: str, config: dict[str, Any], sha: str
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/accounts/local/functions/{name}/plan", json={"config": config, "code_sha256": sha}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_missing_python_module_warns_in_plan_and_refuses_the_deploy(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await register(client, "nomain")
    sha = await upload(client, zip_of("index.py"))
    config = {**BASE_CONFIG, "handler": "main.handler"}

    planned = await plan(client, "nomain", config, sha)
    [warning] = planned["warnings"]
    assert warning["code"] == "handler_missing"
    assert warning["field"] == "config.handler"
    assert "main.py or main/__init__.py" in warning["message"]

    refused = await deploy(client, "nomain", config, None, code_sha256=sha)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "handler_missing"
    assert problem["field"] == "config.handler"
    assert problem["detail"].startswith("config.handler: handler 'main.handler' needs main.py")

    allowed = await deploy(
        client, "nomain", config, None, code_sha256=sha, allow_missing_handler=True
    )
    assert allowed.status_code == 201, allowed.text
    # A later change that touches neither the code nor the handler is not re-checked.
    later = await deploy(client, "nomain", {**config, "memorySize": 1024}, 1)
    assert later.status_code == 201, later.text


async def test_a_present_module_or_package_passes(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await register(client, "pkg")
    sha = await upload(client, zip_of("main/__init__.py", "app/web/views.py"))
    assert (await plan(client, "pkg", {**BASE_CONFIG, "handler": "main.handler"}, sha))[
        "warnings"
    ] == []
    dotted = {**BASE_CONFIG, "handler": "app.web.views.handler"}
    assert (await plan(client, "pkg", dotted, sha))["warnings"] == []
    deployed = await deploy(client, "pkg", dotted, None, code_sha256=sha)
    assert deployed.status_code == 201, deployed.text
    # Keeping the code but naming another module is checked against the kept code.
    renamed = await deploy(client, "pkg", {**BASE_CONFIG, "handler": "other.handler"}, 1)
    assert renamed.status_code == 422, renamed.text
    assert renamed.json()["code"] == "handler_missing"


async def test_custom_runtime_bootstrap_and_relative_command(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await register(client, "custom")
    no_bootstrap = await upload(client, zip_of("server.py"))
    custom = {**BASE_CONFIG, "runtime": "custom.debian10", "handler": "index.handler"}
    [warning] = (await plan(client, "custom", custom, no_bootstrap))["warnings"]
    assert "bootstrap" in warning["message"]
    refused = await deploy(client, "custom", custom, None, code_sha256=no_bootstrap)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "config.handler"

    with_bootstrap = await upload(client, zip_of("bootstrap", "bin/server"))
    assert (await plan(client, "custom", custom, with_bootstrap))["warnings"] == []
    relative = {**custom, "customRuntimeConfig": {"command": ["./bin/server"], "port": 9000}}
    assert (await plan(client, "custom", relative, with_bootstrap))["warnings"] == []
    [missing] = (await plan(client, "custom", relative, no_bootstrap))["warnings"]
    assert "'./bin/server' needs bin/server" in missing["message"]
    # A bare command is found on PATH, not in the package.
    on_path = {**custom, "customRuntimeConfig": {"command": ["python3", "server.py"]}}
    assert (await plan(client, "custom", on_path, no_bootstrap))["warnings"] == []


async def test_nodejs_handler_file(client: httpx.AsyncClient, fc_account: str) -> None:
    await register(client, "node")
    node = {**BASE_CONFIG, "runtime": "nodejs18", "handler": "index.handler"}
    esm = await upload(client, zip_of("index.mjs"))
    assert (await plan(client, "node", node, esm))["warnings"] == []
    python_only = await upload(client, zip_of("index.py"))
    [warning] = (await plan(client, "node", node, python_only))["warnings"]
    assert "index.js or index.mjs or index.cjs" in warning["message"]

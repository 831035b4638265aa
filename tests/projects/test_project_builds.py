"""Builds in a project deploy: `fc3 build` run by the server before the resource deploys,
and the plan's warning for a package with requirements but no installed dependencies.
Real pip on this machine's index, the real sandbox, the emulator through the SDK."""

from __future__ import annotations

import shutil
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client

from service.projects.builds import inspect_package
from tests.build.conftest import INDEX_PY, SIX
from tests.conftest import unavailable
from tests.projects.conftest import code_zip, deploy, plan, put_project

pytestmark = pytest.mark.usefixtures("bwrap")

SOURCE = {"./code": code_zip({"index.py": INDEX_PY, "requirements.txt": f"{SIX}\n"})}
BUILD = "    actions:\n      pre-deploy:\n        - component: fc3 build --use-docker\n"


@pytest.fixture
def bwrap() -> None:
    if shutil.which("bwrap") is None:
        unavailable("bubblewrap", "bwrap is not on PATH")


def resource(name: str, actions: str = "", after: str = "") -> str:
    env = (
        f"      environmentVariables:\n        UP: ${{resources.{after}.output.functionName}}\n"
        if after
        else ""
    )
    return f"""  {name}:
    component: fc3
{actions}    props:
      region: cn-hangzhou
      functionName: b-{name}
      runtime: python3.10
      handler: index.handler
      code: ./code
{env}"""


def project(*resources: str) -> str:
    return "edition: 3.0.0\nname: b\naccess: default\nresources:\n" + "".join(resources)


def invoke(fc: Client, name: str) -> bytes:
    response = fc.invoke_function(name, fc_models.InvokeFunctionRequest(body=b"{}"))
    body: bytes = response.body.read()
    assert "x-fc-error-type" not in response.headers, body
    return body


def builds(done: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in done["actions"] if a["value"].startswith("fc3 build")]


async def test_a_build_action_deploys_the_built_package(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    await put_project(client, "b", project(resource("a", BUILD)), code=SOURCE)
    seen = await plan(client, "b")
    assert [(a["value"], a["runs_on"]) for a in seen["actions"]] == [
        ("fc3 build --use-docker", "server")
    ]
    assert seen["warnings"] == []  # it builds: nothing to warn about

    done = await deploy(client, "b")
    assert done["status"] == "succeeded", done
    (action,) = builds(done)
    assert action["status"] == "succeeded"
    built = action["build"]
    assert built["source_sha256"] != built["sha256"]
    assert built["cached"] is False
    assert built["packages"] == [{"name": "six", "version": "1.17.0"}]
    assert invoke(fc, "b-a") == b"1.17.0"
    # The built package is stored like an upload, and is what the function runs.
    stored = await client.get(f"/v1/code-packages/{built['sha256']}")
    assert stored.status_code == 200, stored.text
    function = (await client.get("/v1/accounts/local/functions/b-a")).json()
    assert function["applied"]["code_checksum"] == stored.json()["crc64"]

    again = await deploy(client, "b")
    assert again["status"] == "succeeded", again
    assert builds(again)[0]["build"]["cached"] is True
    assert again["results"][0]["status"] == "unchanged"


async def test_without_a_build_action_the_plan_warns(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await put_project(client, "b", project(resource("a")), code=SOURCE)
    seen = await plan(client, "b")
    (warning,) = seen["warnings"]
    assert warning.startswith("a: its code package has requirements.txt")
    assert "fc3 build" in warning
    assert seen["resources"][0]["warnings"] == [warning.removeprefix("a: ")]
    assert "warning: its code package has requirements.txt" in seen["text"]


def test_the_warning_reads_names_and_small_requirement_files_only() -> None:
    assert inspect_package(code_zip({"requirements.txt": "six\n"})) == ("requirements.txt")
    installed = {"requirements.txt": "six\n", "six-1.17.0.dist-info/METADATA": "", "six.py": ""}
    assert inspect_package(code_zip(installed)) is None
    assert inspect_package(code_zip({"requirements.txt": "# none\n\n"})) is None
    assert inspect_package(code_zip({"package.json": '{"name": "x"}'})) is None
    node = {"package.json": '{"dependencies": {"left-pad": "1.3.0"}}'}
    assert inspect_package(code_zip(node)) == "package.json"
    assert inspect_package(code_zip({**node, "node_modules/left-pad/x.js": ""})) is None
    assert inspect_package(b"not a zip") is None


async def test_a_failing_build_fails_the_resource_and_skips_its_dependents(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    broken = {
        "./code": code_zip(
            {"index.py": INDEX_PY, "requirements.txt": "fcplane-no-such-package-x7q==1.0\n"}
        )
    }
    source = project(resource("a", BUILD), resource("c", after="a"))
    await put_project(client, "b", source, code=broken)
    done = await deploy(client, "b")
    assert done["status"] == "failed"
    statuses = {r["resource"]: r["status"] for r in done["results"]}
    assert statuses == {"a": "failed", "c": "skipped"}
    (action,) = builds(done)
    assert action["status"] == "failed"
    error = action["error"]
    assert error["code"] == "build_failed"
    assert error["build_code"] == "resolution_failed"
    assert "fcplane-no-such-package-x7q==1.0" in error["detail"]
    assert "No matching distribution found" in error["log"]
    assert "fcplane-no-such-package-x7q" in done["results"][0]["error"]["detail"]
    gone = await client.get("/v1/accounts/local/functions/b-a")
    assert gone.status_code == 404


async def test_build_flags_fcplane_cannot_honour_fail_the_resource(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    dockerfile = BUILD.replace("--use-docker", "--dockerfile ./code/Dockerfile")
    await put_project(client, "b", project(resource("a", dockerfile)), code=SOURCE)
    done = await deploy(client, "b")
    assert done["status"] == "failed"
    assert "--dockerfile" in builds(done)[0]["error"]["detail"]

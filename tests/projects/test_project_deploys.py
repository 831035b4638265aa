"""What a project deploy does beyond the tour: failures, deletions, adoption, actions,
secrets. Through the HTTP API, FC through the official SDK against the emulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from Tea.exceptions import TeaException

from tests.deploys.conftest import live, sdk_code
from tests.projects.conftest import deploy, handler_zip, plan, put_project

CODE = {"./code": handler_zip("hi")}


def resource(name: str, extra: str = "") -> str:
    return f"""  {name}:
    component: fc3
    props:
      region: cn-hangzhou
      functionName: p-{name}
      runtime: python3.10
      handler: index.handler
      code: ./code
      triggers:
        - triggerName: http
          triggerType: http
          triggerConfig: {{authType: anonymous, methods: [GET]}}
{extra}"""


def project(*resources: str) -> str:
    return "edition: 3.0.0\nname: p\naccess: default\nresources:\n" + "".join(resources)


FEEDS_A = "      environmentVariables:\n        UP: ${resources.a.output.url.system_url}\n"


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {r["resource"]: r["status"] for r in body["results"]}


def exists(fc: Client, name: str) -> bool:
    try:
        live(fc, name)
    except TeaException:
        return False
    return True


async def test_a_failure_skips_its_dependents_and_the_rest_lands(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    # FC refuses a's runtime: nothing of a lands.
    broken = resource("a").replace("python3.10", "python2.7")
    await put_project(
        client, "p", project(broken, resource("b", FEEDS_A), resource("c")), code=CODE
    )
    failed = await deploy(client, "p", base_revision=0)
    assert failed["status"] == "failed"
    assert statuses(failed) == {"a": "failed", "b": "skipped", "c": "deployed"}
    assert "python2.7" in failed["results"][0]["error"]["detail"]
    assert not exists(fc, "p-a")
    assert not exists(fc, "p-b")
    assert exists(fc, "p-c")
    target = (await client.get("/v1/projects/p")).json()["targets"][0]
    # What landed: c at its first revision; a registered, still at revision 0.
    assert target["resources"] == {
        "a": {"function": "p-a", "revision": 0},
        "c": {"function": "p-c", "revision": 1},
    }

    source = project(resource("a"), resource("b", FEEDS_A), resource("c"))
    await put_project(client, "p", source, code=CODE, base_revision=1)
    retried = await deploy(client, "p", base_revision=1)
    assert retried["status"] == "succeeded", retried
    assert statuses(retried) == {"a": "deployed", "b": "deployed", "c": "unchanged"}


async def test_a_resource_removed_from_the_syaml_is_deleted_on_the_next_deploy(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    await put_project(client, "p", project(resource("a"), resource("c")), code=CODE)
    await deploy(client, "p", base_revision=0)
    await put_project(client, "p", project(resource("a")), code=CODE, base_revision=1)
    seen = await plan(client, "p")
    states = {r["resource"]: (r["state"], r["function"]) for r in seen["resources"]}
    assert states["c"] == ("delete", "p-c")
    done = await deploy(client, "p", base_revision=1)
    assert statuses(done) == {"a": "unchanged", "c": "deleted"}
    assert not exists(fc, "p-c")
    assert (await client.get("/v1/accounts/local/functions/p-c")).status_code == 404
    target = (await client.get("/v1/projects/p")).json()["targets"][0]
    assert set(target["resources"]) == {"a"}


async def test_a_live_function_is_refused_unless_adopted(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name="p-a",
                runtime="python3.10",
                handler="index.handler",
                memory_size=1024,
                code=sdk_code("def handler(e, c):\n    return 'old'\n"),
            )
        )
    )
    await put_project(client, "p", project(resource("a")), code=CODE)
    seen = await plan(client, "p")
    assert seen["stale"] == ["a"]
    assert "adopt" in seen["resources"][0]["reason"]
    refused = await client.post("/v1/projects/p/deployments", json={})
    assert refused.status_code == 409
    assert live(fc, "p-a").memory_size == 1024  # untouched

    adopted = await plan(client, "p", adopt=True)
    assert adopted["stale"] == []
    assert adopted["resources"][0]["state"] == "adopt"
    changed = {c["path"] for c in adopted["resources"][0]["plan"]["local_changes"]}
    assert "/memorySize" in changed
    done = await deploy(client, "p", adopt=True)
    assert done["status"] == "succeeded", done
    assert live(fc, "p-a").memory_size != 1024


ACTIONS = """    actions:
      pre-deploy:
        - run: npm install
          path: ./code
      success-deploy:
        - component: fc3 version publish --description "from the project"
        - component: fc3 alias publish --alias-name prod --version-id latest
        - component: fc3 invoke --event ping
"""


async def test_server_actions_run_and_run_actions_are_only_listed(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    await put_project(client, "p", project(resource("a", ACTIONS)), code=CODE)
    seen = await plan(client, "p")
    where = {a["value"]: a["runs_on"] for a in seen["actions"]}
    assert where["npm install"] == "client"
    assert where['fc3 version publish --description "from the project"'] == "server"
    assert any("never executed by the fcplane server" in note for note in seen["notes"])

    done = await deploy(client, "p")
    assert done["status"] == "succeeded", done
    ran = [(a["value"].split()[1], a["status"]) for a in done["actions"]]
    assert ran == [("version", "succeeded"), ("alias", "succeeded"), ("invoke", "succeeded")]
    version = done["actions"][0]["version_id"]
    assert fc.get_alias("p-a", "prod").body.version_id == version
    assert done["actions"][2]["invocation"]["body"] == "hi"
    # No shell ran on the server: nothing in the actions record says `run`.
    assert all(a["kind"] == "component" for a in done["actions"])


async def test_a_failing_pre_action_fails_the_resource(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    alias_first = (
        "    actions:\n      pre-deploy:\n        - component: fc3 alias publish --alias-name x\n"
    )
    await put_project(client, "p", project(resource("a", alias_first)), code=CODE)
    done = await deploy(client, "p")
    assert done["status"] == "failed"
    assert statuses(done) == {"a": "failed"}
    assert done["actions"][0]["status"] == "failed"
    assert not exists(fc, "p-a")


SECRETS = """      environmentVariables:
        DB_PASSWORD: ${env('DB_PASSWORD')}
        ACCOUNT: ${config('AccountID')}
"""


async def test_secret_env_values_are_redacted_and_config_comes_from_the_account(
    client: httpx.AsyncClient, fc_account: str, prod_account: str, fc: Client, prod_fc: Client
) -> None:
    secret = "hunter2-very-secret"
    revision = await put_project(
        client,
        "p",
        project(resource("a", SECRETS)),
        code=CODE,
        env={"DB_PASSWORD": secret, "STAGE": "test"},
        environments={"default": "local"},
    )
    assert revision["env"] == {"DB_PASSWORD": "***", "STAGE": "test"}
    seen = await client.post("/v1/projects/p/plan", json={})
    assert secret not in seen.text
    done = await client.post("/v1/projects/p/deployments", json={})
    assert done.status_code == 201
    assert secret not in done.text
    listed = await client.get("/v1/projects/p/deployments")
    assert secret not in listed.text
    assert live(fc, "p-a").environment_variables == {
        "DB_PASSWORD": secret,
        "ACCOUNT": "1234567890",
    }
    await deploy(client, "p", access="prod")
    assert live(prod_fc, "p-a").environment_variables["ACCOUNT"] == "9876543210"


@pytest.mark.parametrize("key", ["AccessKeySecret", "SecurityToken"])
async def test_account_secrets_are_never_written_into_a_function(
    client: httpx.AsyncClient, key: str
) -> None:
    extra = f"      environmentVariables:\n        K: ${{config('{key}')}}\n"
    response = await client.post(
        "/v1/projects", json={"name": "p", "files": {"s.yaml": project(resource("a", extra))}}
    )
    assert response.status_code == 422, response.text
    assert key in response.json()["detail"]
    assert "resources.a" in response.json()["detail"]


async def test_a_project_revision_needs_its_code_packages(client: httpx.AsyncClient) -> None:
    missing = {"./code": "0" * 64}
    response = await client.post(
        "/v1/projects",
        json={"name": "p", "files": {"s.yaml": project(resource("a"))}, "code": missing},
    )
    assert response.status_code == 422
    assert "code" in response.json()["detail"]
    no_code = await client.post(
        "/v1/projects", json={"name": "p", "files": {"s.yaml": project(resource("a"))}}
    )
    assert no_code.status_code == 422
    assert "resources.a.props.code" in no_code.json()["detail"]


async def test_a_stale_base_revision_on_submit_is_a_409(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await put_project(client, "p", project(resource("a")), code=CODE)
    same = await put_project(
        client, "p", project(resource("a")), code=CODE, base_revision=1, expect=200
    )
    assert same["number"] == 1  # nothing new
    await put_project(
        client, "p", project(resource("a"), resource("c")), code=CODE, base_revision=1
    )
    stale = await put_project(
        client, "p", project(resource("c")), code=CODE, base_revision=1, expect=409
    )
    assert stale["head_revision"] == 2
    revisions = (await client.get("/v1/projects/p/revisions")).json()["items"]
    assert [r["number"] for r in revisions] == [2, 1]


def unzip(data: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def rezip(files: dict[str, bytes], folder: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            if name.startswith(folder + "/"):
                archive.writestr(name.removeprefix(folder + "/"), data)
    return buffer.getvalue()


async def test_sync_review_submit_adopt_brings_a_live_function_under_a_project(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    import yaml

    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name="legacy",
                runtime="python3.10",
                handler="index.handler",
                memory_size=1024,
                timeout=20,
                environment_variables={"MODE": "old"},
                code=sdk_code("def handler(e, c):\n    return 'legacy'\n"),
            )
        )
    )
    synced = await client.get("/v1/accounts/local/functions/legacy/sync?project=estate")
    assert synced.status_code == 200, synced.text
    files = unzip(synced.content)
    syaml = files["cn-hangzhou_legacy.yaml"].decode()
    assert yaml.safe_load(syaml)["resources"]["legacy"]["props"]["memorySize"] == 1024
    await put_project(
        client,
        "estate",
        syaml,
        code={"./cn-hangzhou_legacy": rezip(files, "cn-hangzhou_legacy")},
    )
    seen = await plan(client, "estate", adopt=True)
    legacy = seen["resources"][0]
    assert legacy["state"] == "adopt"
    # No config change. (The code is a zip rebuilt from the synced files: FC, whose
    # checksum is the zip's, may list /code; nothing else.)
    assert {c["path"] for c in legacy["plan"]["local_changes"]} <= {"/code"}
    done = await deploy(client, "estate", adopt=True)
    assert done["status"] == "succeeded", done
    assert live(fc, "legacy").memory_size == 1024
    assert live(fc, "legacy").environment_variables == {"MODE": "old"}


async def test_a_project_syncs_back_with_its_console_edits(
    client: httpx.AsyncClient, fc_account: str, fc: Client
) -> None:
    import yaml

    await put_project(client, "p", project(resource("a"), resource("c")), code=CODE)
    await deploy(client, "p")
    fc.update_function(
        "p-c", fc_models.UpdateFunctionRequest(body=fc_models.UpdateFunctionInput(memory_size=2048))
    )
    synced = await client.get("/v1/projects/p/sync")
    assert synced.status_code == 200, synced.text
    files = unzip(synced.content)
    document = yaml.safe_load(files["s.yaml"])
    assert document["name"] == "p"
    # Keyed by the project's resource names, so the file submits back as the project.
    assert document["resources"]["c"]["props"]["functionName"] == "p-c"
    assert document["resources"]["c"]["props"]["memorySize"] == 2048
    assert document["resources"]["a"]["props"]["code"] == "./cn-hangzhou_a"
    assert files["cn-hangzhou_a/index.py"].startswith(b"def handler")
    missing = await client.get("/v1/projects/p/sync?access=nowhere")
    assert missing.status_code == 404


async def test_a_project_request_holds_one_database_connection_at_a_time(
    app: Any, client: httpx.AsyncClient, fc_account: str
) -> None:
    """Eight resources plan and deploy at once; their database blocks take turns.

    Only the request's own tasks count: the app's background tasks (the webhook
    dispatcher a deploy wakes, the drift scheduler) were running before it and
    use connections of their own.
    """
    import asyncio

    from sqlalchemy import event

    from service.state import AppState

    state: AppState = app.state.fcplane
    background = asyncio.all_tasks()
    counted: set[int] = set()
    most = 0

    def checkout(_: Any, record: Any, __: Any) -> None:
        nonlocal most
        if asyncio.current_task() not in background:
            counted.add(id(record))
            most = max(most, len(counted))

    def checkin(_: Any, record: Any) -> None:
        counted.discard(id(record))

    await put_project(client, "p", project(*(resource(f"r{i}") for i in range(8))), code=CODE)
    pool = state.db.engine.sync_engine.pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        assert (await plan(client, "p"))["layers"] == [[f"r{i}" for i in range(8)]]
        done = await deploy(client, "p")
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
    assert done["status"] == "succeeded"
    assert most == 1

"""Sync: a live function as fc3's s.yaml plus its code, through the API against the emulator
(functions deployed by fcplane, and functions made straight in FC with the official SDK).

The emulator, its SDK client ``fc`` and the account ``local`` come from the projects
conftest."""

from __future__ import annotations

import base64
import io
import json
import stat
import zipfile
from typing import Any

import httpx
import pytest
import yaml
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client

from service.projects.sync import (
    READ_ONLY,
    SyncedFunction,
    UnsafeCodePackage,
    function_props,
    local_name,
    sync_zip,
)
from tests.conftest import token_with
from tests.deploys.conftest import deploy, upload

FN = "/v1/accounts/local/functions"
REGION = "cn-hangzhou"
SOURCE = "def handler(event, context):\n    return 'synced'\n"
RUN_SH = "#!/bin/sh\nexec python3 index.py\n"
HTTP_TRIGGER: dict[str, Any] = {
    "triggerName": "http_t",
    "triggerType": "http",
    "triggerConfig": {"authType": "anonymous", "methods": ["GET", "POST"]},
}
TIMER_TRIGGER: dict[str, Any] = {
    "triggerName": "nightly",
    "triggerType": "timer",
    "triggerConfig": {"cronExpression": "0 0 2 * * *", "enable": True, "payload": "{}"},
}
CONFIG: dict[str, Any] = {
    "runtime": "python3.10",
    "handler": "index.handler",
    "memorySize": 1024,
    "cpu": 1,
    "timeout": 30,
    "description": "synced back",
    "environmentVariables": {"STAGE": "prod", "RETRIES": "3"},
    "tags": [{"Key": "team", "Value": "core"}],
    "triggers": [HTTP_TRIGGER, TIMER_TRIGGER],
    "asyncInvokeConfig": {"maxAsyncRetryAttempts": 1, "maxAsyncEventAgeInSeconds": 3600},
    "concurrencyConfig": {"reservedConcurrency": 4},
}


def code_zip(files: dict[str, tuple[str, int]]) -> bytes:
    """A zip made on Unix: ``{path: (content, mode)}``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, (content, mode) in files.items():
            info = zipfile.ZipInfo(path, (2024, 5, 1, 12, 0, 0))
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


CODE = code_zip(
    {
        "index.py": (SOURCE, 0o644),
        "bin/run.sh": (RUN_SH, 0o755),
        "lib/util.py": ("X = 1\n", 0o644),
    }
)


async def deployed(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    sha = await upload(client, CODE)
    registered = await client.post(FN, json={"name": name})
    assert registered.status_code == 201, registered.text
    response = await deploy(client, name, CONFIG, None, code_sha256=sha)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def sdk_function(fc: Client, name: str) -> None:
    """A function nobody told fcplane about, made as in the console."""
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name=name,
                runtime="python3.10",
                handler="index.handler",
                memory_size=512,
                cpu=0.35,
                timeout=10,
                environment_variables={"FROM": "console"},
                code=fc_models.InputCodeLocation(zip_file=base64.b64encode(CODE).decode()),
            )
        )
    )
    fc.create_trigger(
        name,
        fc_models.CreateTriggerRequest(
            body=fc_models.CreateTriggerInput(
                trigger_name="http_t",
                trigger_type="http",
                trigger_config=json.dumps(HTTP_TRIGGER["triggerConfig"]),
            )
        ),
    )
    fc.put_async_invoke_config(
        name,
        fc_models.PutAsyncInvokeConfigRequest(
            body=fc_models.PutAsyncInvokeConfigInput(max_async_retry_attempts=2)
        ),
    )


async def synced(client: httpx.AsyncClient, name: str, **query: str) -> zipfile.ZipFile:
    response = await client.get(f"{FN}/{name}/sync", params=query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{local_name(REGION, name)}.zip"'
    )
    return zipfile.ZipFile(io.BytesIO(response.content))


def document(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(archive.read(f"{local_name(REGION, name)}.yaml"))
    return loaded


def props_in(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    resource = document(archive, name)["resources"][name]
    assert resource["component"] == "fc3"
    props: dict[str, Any] = resource["props"]
    return props


def assert_code_folder(archive: zipfile.ZipFile, name: str) -> None:
    folder = local_name(REGION, name)
    files = {i.filename: i for i in archive.infolist() if not i.is_dir()}
    assert set(files) == {
        f"{folder}.yaml",
        f"{folder}/index.py",
        f"{folder}/bin/run.sh",
        f"{folder}/lib/util.py",
    }
    assert archive.read(f"{folder}/index.py").decode() == SOURCE
    assert archive.read(f"{folder}/bin/run.sh").decode() == RUN_SH
    assert files[f"{folder}/bin/run.sh"].external_attr >> 16 & 0o777 == 0o755
    assert files[f"{folder}/index.py"].external_attr >> 16 & 0o777 == 0o644


def as_deploy_config(props: dict[str, Any]) -> dict[str, Any]:
    """A synced resource's props sent back as a deploy config (region and code are the
    yaml's, not the function's)."""
    return {k: v for k, v in props.items() if k not in ("region", "code")}


# --- through the API ----------------------------------------------------------


async def test_a_deployed_function_syncs_as_fc3_writes_it(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    await deployed(client, "orders")
    archive = await synced(client, "orders")
    doc = document(archive, "orders")
    assert list(doc) == ["edition", "name", "access", "resources"]
    assert (doc["edition"], doc["name"], doc["access"]) == ("3.0.0", "orders", "local")
    props = props_in(archive, "orders")
    assert list(props)[:3] == ["region", "functionName", "description"]
    assert props["region"] == REGION
    assert props["code"] == "./cn-hangzhou_orders"
    for key in ("runtime", "handler", "memorySize", "timeout", "description"):
        assert props[key] == CONFIG[key], key
    assert props["cpu"] == 1
    assert props["environmentVariables"] == CONFIG["environmentVariables"]
    assert props["tags"] == [{"Key": "team", "Value": "core"}]
    triggers = {t["triggerName"]: t for t in props["triggers"]}
    assert set(triggers) == {"http_t", "nightly"}
    for given in (HTTP_TRIGGER, TIMER_TRIGGER):
        found = triggers[given["triggerName"]]
        assert found["triggerType"] == given["triggerType"]
        assert isinstance(found["triggerConfig"], dict)
        assert found["triggerConfig"].items() >= given["triggerConfig"].items()
        assert found["qualifier"] == "LATEST"
    assert props["asyncInvokeConfig"].items() >= CONFIG["asyncInvokeConfig"].items()
    assert props["concurrencyConfig"] == {"reservedConcurrency": 4}
    assert not READ_ONLY & set(props)
    for trigger in props["triggers"]:
        assert not {"triggerId", "createdTime", "lastModifiedTime", "httpTrigger"} & set(trigger)
    assert_code_folder(archive, "orders")


async def test_the_query_names_the_project_and_access_and_read_scope_is_enough(
    client: httpx.AsyncClient, fc_account: str, app: Any
) -> None:
    await deployed(client, "named")
    reader = await token_with(client, "read", name="reader")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://fcplane.test",
        headers={"Authorization": f"Bearer {reader}"},
    ) as read_only:
        archive = await synced(read_only, "named", project="shop", access="prod-key")
    doc = document(archive, "named")
    assert (doc["name"], doc["access"]) == ("shop", "prod-key")


async def test_a_function_fcplane_does_not_manage_syncs_from_fc(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    sdk_function(fc, "console-made")
    assert (await client.get(f"{FN}/console-made")).status_code == 404  # not managed
    archive = await synced(client, "console-made")
    props = props_in(archive, "console-made")
    assert props["environmentVariables"] == {"FROM": "console"}
    assert (props["memorySize"], props["timeout"]) == (512, 10)
    assert [t["triggerConfig"]["methods"] for t in props["triggers"]] == [["GET", "POST"]]
    assert props["asyncInvokeConfig"]["maxAsyncRetryAttempts"] == 2
    assert not READ_ONLY & set(props)
    assert_code_folder(archive, "console-made")


async def test_an_unknown_function_or_account_is_a_404_problem(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    missing = await client.get(f"{FN}/nowhere/sync")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "fc_not_found"
    assert "'nowhere'" in missing.json()["detail"]
    no_account = await client.get("/v1/accounts/ghost/functions/orders/sync")
    assert no_account.status_code == 404
    assert no_account.headers["content-type"] == "application/problem+json"
    assert "'ghost'" in no_account.json()["detail"]
    bad = await client.get(f"{FN}/orders/sync", params={"project": "a b"})
    assert bad.status_code == 422
    unknown = await client.get(f"{FN}/orders/sync", params={"projct": "x"})
    assert unknown.status_code == 422


# --- round trip: synced props are a deploy config that plans to no change ------


async def test_synced_props_of_an_adopted_function_plan_to_no_change(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    sdk_function(fc, "adopted")
    adopted = await client.post(FN, json={"name": "adopted", "adopt": True})
    assert adopted.status_code == 201, adopted.text
    props = props_in(await synced(client, "adopted"), "adopted")
    plan = await client.post(
        f"{FN}/adopted/plan", json={"config": as_deploy_config(props), "base_revision": 1}
    )
    assert plan.status_code == 200, plan.text
    assert plan.json()["local_changes"] == [], plan.json()["text"]
    assert plan.json()["conflicts"] == []


async def test_synced_props_of_a_deployed_function_plan_to_no_change(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    head = (await deployed(client, "managed"))["to_revision"]
    props = props_in(await synced(client, "managed"), "managed")
    plan = await client.post(
        f"{FN}/managed/plan", json={"config": as_deploy_config(props), "base_revision": head}
    )
    assert plan.status_code == 200, plan.text
    assert plan.json()["local_changes"] == [], plan.json()["text"]
    assert plan.json()["remote_changes"] == []


# --- the pieces ---------------------------------------------------------------


def _raw_zip(entries: dict[str, bytes], mode: int = 0o644) -> bytes:
    """A zip whose entry names are written as given (zipfile would not stop '..')."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _symlink_zip(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", SOURCE)
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, target)
    return buffer.getvalue()


def _entry(name: str, code: bytes | None, region: str = REGION) -> SyncedFunction:
    state = {"runtime": "python3.10", "handler": "index.handler", "code": "1"}
    return SyncedFunction(name, region, function_props(state, region, name), code)


@pytest.mark.parametrize(
    "code",
    [
        _raw_zip({"index.py": b"ok", "../../etc/cron.d/evil": b"x"}),
        _raw_zip({"/etc/passwd": b"x"}),
        _raw_zip({"a\\..\\..\\evil": b"x"}),
        _symlink_zip("escape", "../../../etc"),
    ],
    ids=["dot-dot", "absolute", "backslash", "symlink-out"],
)
def test_a_code_zip_that_climbs_out_of_its_folder_is_refused(code: bytes) -> None:
    with pytest.raises(UnsafeCodePackage) as refused:
        sync_zip([_entry("evil", code)])
    assert refused.value.status == 409
    assert "'evil'" in refused.value.detail


def test_a_symlink_inside_the_folder_is_kept_as_a_link() -> None:
    data = sync_zip([_entry("linked", _symlink_zip("alias.py", "index.py"))])
    archive = zipfile.ZipFile(io.BytesIO(data))
    link = archive.getinfo("cn-hangzhou_linked/alias.py")
    assert stat.S_ISLNK(link.external_attr >> 16)
    assert archive.read(link) == b"index.py"


def test_several_functions_share_one_s_yaml_with_a_folder_each() -> None:
    entries = [
        _entry("api", CODE),
        _entry("api", CODE, region="cn-shanghai"),
        _entry("worker", CODE),
        SyncedFunction("image", REGION, {"region": REGION, "functionName": "image"}, None),
    ]
    data = sync_zip(entries, project="shop", access="prod")
    archive = zipfile.ZipFile(io.BytesIO(data))
    doc = yaml.safe_load(archive.read("s.yaml"))
    assert (doc["name"], doc["access"]) == ("shop", "prod")
    resources = doc["resources"]
    assert list(resources) == ["api", "cn-shanghai_api", "worker", "image"]
    assert resources["cn-shanghai_api"]["props"]["code"] == "./cn-shanghai_api"
    assert "code" not in resources["image"]["props"]
    folders = {n.split("/")[0] for n in archive.namelist() if "/" in n}
    assert folders == {"cn-hangzhou_api", "cn-shanghai_api", "cn-hangzhou_worker"}
    assert archive.read("cn-hangzhou_worker/bin/run.sh").decode() == RUN_SH


def test_props_drop_read_only_and_unset_fields_and_fc3s_dollar_becomes_underscore() -> None:
    state = {
        "runtime": "custom-container",
        "customContainerConfig": {"image": "registry.example.com/a/b:1"},
        "description": "",
        "disableOndemand": False,
        "sessionAffinity": "NONE",
        "layers": [],
        "memorySize": 512,
        "functionArn": "acs:fc:cn-hangzhou:1:functions/x",
        "useSLRAuthentication": True,
        "triggers": {},
        "code": None,
    }
    props = function_props(state, REGION, "svc$fn")
    assert props == {
        "region": REGION,
        "functionName": "svc$fn",
        "runtime": "custom-container",
        "memorySize": 512,
        "customContainerConfig": {"image": "registry.example.com/a/b:1"},
    }
    assert local_name(REGION, "svc$fn$x") == "cn-hangzhou_svc_fn$x"

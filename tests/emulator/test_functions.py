"""Function CRUD through the official SDK over real HTTP."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from service.emulator.checksum import code_checksum
from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import (
    ECHO_PY,
    b64,
    code_of,
    create_function,
    instances,
    invoke,
    make_zip,
    process_gone,
    wait_for,
)

VERSION_PY = "def handler(event, context):\n    return 'v{}'\n"


def test_create_get_function_fields(fc: Client) -> None:
    zip_bytes = make_zip({"index.py": ECHO_PY})
    created = create_function(
        fc,
        "echo",
        code=m.InputCodeLocation(zip_file=b64(zip_bytes)),
        memory_size=1024,
        cpu=0.5,
        environment_variables={"A": "1"},
        description="hello",
        tags=[m.Tag(key="team", value="x")],
    )
    assert created.function_name == "echo"
    assert created.code_checksum == code_checksum(zip_bytes)
    assert created.code_size == len(zip_bytes)
    assert created.memory_size == 1024
    assert created.cpu == 0.5
    assert created.disk_size == 512
    assert created.timeout == 3
    assert created.environment_variables == {"A": "1"}
    assert created.function_arn == "acs:fc:cn-hangzhou:1234567890:functions/echo"
    assert created.internet_access is True
    assert created.state == "Active"
    assert created.layers == []
    assert created.tags[0].key == "team"
    got = fc.get_function("echo", m.GetFunctionRequest()).body
    assert got.to_map() == created.to_map()


def test_default_spec_is_valid(fc: Client) -> None:
    f = create_function(fc, "d")
    assert (f.cpu, f.memory_size) == (0.35, 512)
    g = create_function(fc, "only-mem", memory_size=128)
    assert 1 <= 128 / 1024 / g.cpu <= 4


def test_function_not_found(fc: Client) -> None:
    with pytest.raises(ClientException) as exc:
        fc.get_function("nope", m.GetFunctionRequest())
    assert (exc.value.status_code, exc.value.code) == (404, "FunctionNotFound")
    assert "nope" in exc.value.message
    assert exc.value.request_id


def test_function_already_exists(fc: Client) -> None:
    create_function(fc, "dup")
    with pytest.raises(ClientException) as exc:
        create_function(fc, "dup")
    assert (exc.value.status_code, exc.value.code) == (409, "FunctionAlreadyExists")


def test_update_moves_last_modified_and_code(fc: Client, emulator: EmbeddedEmulator) -> None:
    first = create_function(fc, "upd", code=code_of(VERSION_PY.format(1)))
    before = invoke(fc, "upd", b"")
    assert before.body.read() == b"v1"
    (old,) = instances(emulator, "upd")
    assert old["instance_id"] == before.headers["x-fc-instance-id"]
    new_zip = make_zip({"index.py": VERSION_PY.format(2)})
    updated = fc.update_function(
        "upd",
        m.UpdateFunctionRequest(
            body=m.UpdateFunctionInput(
                code=m.InputCodeLocation(zip_file=b64(new_zip)), timeout=10, memory_size=1024
            )
        ),
    ).body
    assert updated.last_modified_time > first.last_modified_time
    assert updated.created_time == first.created_time
    assert updated.code_checksum == code_checksum(new_zip)
    assert updated.timeout == 10
    assert updated.memory_size == 1024
    # the instance running the old code is stopped; the next request runs the new code
    assert instances(emulator, "upd") == []
    wait_for("the old instance's process to exit", lambda: process_gone(old["pid"]))
    after = invoke(fc, "upd", b"")
    assert after.body.read() == b"v2"
    assert after.headers["x-fc-instance-id"] != old["instance_id"]
    assert after.headers["x-fc-code-checksum"] == updated.code_checksum
    again = fc.update_function(
        "upd", m.UpdateFunctionRequest(body=m.UpdateFunctionInput(description="x"))
    ).body
    assert again.last_modified_time > updated.last_modified_time
    assert again.code_checksum == updated.code_checksum
    assert invoke(fc, "upd", b"").body.read() == b"v2"


def test_update_missing_function(fc: Client) -> None:
    with pytest.raises(ClientException) as exc:
        fc.update_function("ghost", m.UpdateFunctionRequest(body=m.UpdateFunctionInput(timeout=5)))
    assert exc.value.code == "FunctionNotFound"


def test_list_functions_prefix_and_pages(fc: Client) -> None:
    for name in ["a1", "a2", "a3", "b1"]:
        create_function(fc, name)
    page = fc.list_functions(m.ListFunctionsRequest(prefix="a", limit=2)).body
    assert [f.function_name for f in page.functions] == ["a1", "a2"]
    assert page.next_token
    rest = fc.list_functions(
        m.ListFunctionsRequest(prefix="a", limit=2, next_token=page.next_token)
    ).body
    assert [f.function_name for f in rest.functions] == ["a3"]
    assert rest.next_token is None
    everything = fc.list_functions(m.ListFunctionsRequest()).body
    assert len(everything.functions) == 4


def test_list_functions_by_tag(fc: Client) -> None:
    create_function(fc, "t1", tags=[m.Tag(key="env", value="prod")])
    create_function(fc, "t2")
    found = fc.list_functions(m.ListFunctionsRequest(tags=[m.Tag(key="env", value="prod")])).body
    assert [f.function_name for f in found.functions] == ["t1"]


def test_delete_function(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "gone")
    invoke(fc, "gone")
    (running,) = instances(emulator, "gone")
    response = fc.delete_function("gone")
    assert response.status_code == 204
    assert instances(emulator, "gone") == []  # its instances are stopped with it
    wait_for("the instance's process to exit", lambda: process_gone(running["pid"]))
    with pytest.raises(ClientException) as exc:
        fc.delete_function("gone")
    assert exc.value.code == "FunctionNotFound"
    with pytest.raises(ClientException) as exc:
        invoke(fc, "gone")
    assert exc.value.code == "FunctionNotFound"


def test_get_function_code_downloads_same_bytes(fc: Client) -> None:
    zip_bytes = make_zip({"index.py": ECHO_PY, "lib/x.txt": "x"})
    create_function(fc, "code", code=m.InputCodeLocation(zip_file=b64(zip_bytes)))
    code = fc.get_function_code("code", m.GetFunctionCodeRequest()).body
    assert code.checksum == code_checksum(zip_bytes)
    assert httpx.get(code.url).content == zip_bytes


def test_code_stored_once_by_content(fc: Client, emulator: EmbeddedEmulator) -> None:
    zip_bytes = make_zip({"index.py": ECHO_PY + "# stored once\n"})
    blob_dir = emulator.app.settings.data_dir / "blobs"
    before = set(blob_dir.glob("*.zip"))  # the module's emulator keeps earlier tests' blobs
    for name in ("s1", "s2"):
        create_function(fc, name, code=m.InputCodeLocation(zip_file=b64(zip_bytes)))
    added = set(blob_dir.glob("*.zip")) - before
    assert [p.name for p in added] == [f"{hashlib.sha256(zip_bytes).hexdigest()}.zip"]
    assert invoke(fc, "s2", b"same code").body.read() == b"same code"


def test_code_checksum_verified_on_upload(fc: Client) -> None:
    zip_bytes = make_zip({"index.py": ECHO_PY})
    good = create_function(
        fc,
        "ck",
        code=m.InputCodeLocation(zip_file=b64(zip_bytes), checksum=code_checksum(zip_bytes)),
    )
    assert good.code_checksum == code_checksum(zip_bytes)
    with pytest.raises(ClientException) as exc:
        create_function(fc, "ck2", code=m.InputCodeLocation(zip_file=b64(zip_bytes), checksum="1"))
    assert exc.value.code == "InvalidArgument"
    assert "checksum" in exc.value.message


def test_custom_container_create_read_update(fc: Client) -> None:
    created = fc.create_function(
        m.CreateFunctionRequest(
            body=m.CreateFunctionInput(
                function_name="box",
                runtime="custom-container",
                handler="not-used",
                custom_container_config=m.CustomContainerConfig(image="registry/x:1", port=8080),
            )
        )
    ).body
    assert created.custom_container_config.image == "registry/x:1"
    assert created.code_size == 0
    updated = fc.update_function(
        "box",
        m.UpdateFunctionRequest(
            body=m.UpdateFunctionInput(
                custom_container_config=m.CustomContainerConfig(image="registry/x:2", port=8080)
            )
        ),
    ).body
    assert updated.custom_container_config.image == "registry/x:2"
    got = fc.get_function("box", m.GetFunctionRequest()).body
    assert got.runtime == "custom-container"
    assert got.custom_container_config.port == 8080


def test_custom_runtime_config_round_trip(fc: Client) -> None:
    f = create_function(
        fc,
        "custom",
        runtime="custom.debian10",
        custom_runtime_config=m.CustomRuntimeConfig(
            command=["python3"], args=["server.py"], port=9000
        ),
        instance_concurrency=10,
        instance_lifecycle_config=m.InstanceLifecycleConfig(
            initializer=m.LifecycleHook(handler="index.init", timeout=5)
        ),
    )
    assert f.custom_runtime_config.command == ["python3"]
    assert f.instance_concurrency == 10
    assert f.instance_lifecycle_config.initializer.handler == "index.init"


def test_timestamps_are_iso_utc(fc: Client) -> None:
    f = create_function(fc, "ts")
    parsed = time.strptime(f.created_time[:19], "%Y-%m-%dT%H:%M:%S")
    assert parsed.tm_year >= 2024
    assert f.created_time.endswith("Z")


def test_nested_configs_round_trip(fc: Client) -> None:
    f = create_function(
        fc,
        "nested",
        log_config=m.LogConfig(project="p", logstore="s", enable_request_metrics=True),
        vpc_config=m.VPCConfig(vpc_id="vpc-1", v_switch_ids=["vsw-1"], security_group_id="sg-1"),
        nas_config=m.NASConfig(
            user_id=10003,
            group_id=10003,
            mount_points=[m.NASMountConfig(server_addr="x.nas.aliyuncs.com:/", mount_dir="/mnt/a")],
        ),
        custom_dns=m.CustomDNS(name_servers=["8.8.8.8"]),
        tracing_config=m.TracingConfig(type="Jaeger", params={"endpoint": "http://j"}),
        internet_access=False,
        disable_ondemand=False,
        session_affinity="NONE",
    )
    got = fc.get_function("nested", m.GetFunctionRequest()).body
    assert got.log_config.logstore == "s"
    assert got.vpc_config.v_switch_ids == ["vsw-1"]
    assert got.nas_config.mount_points[0].mount_dir == "/mnt/a"
    assert got.custom_dns.name_servers == ["8.8.8.8"]
    assert got.tracing_config.params == {"endpoint": "http://j"}
    assert got.internet_access is False
    assert got.to_map() == f.to_map()

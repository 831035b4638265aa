"""Provision, concurrency and async invoke configs; layers; ListInstances.

This module's emulator reaps idle on-demand instances after 0.5 s, so that a
deleted provision config can be seen to release its instances.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from service.emulator.checksum import code_checksum
from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import (
    SLEEP_PY,
    admin,
    b64,
    code_of,
    create_function,
    instances,
    invoke,
    make_zip,
    wait_for,
)

IDLE_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def emulator_settings() -> dict[str, Any]:
    return {"idle_timeout_s": IDLE_TIMEOUT_S}


def test_provision_config(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "p")
    put = fc.put_provision_config(
        "p",
        m.PutProvisionConfigRequest(
            qualifier="LATEST", body=m.PutProvisionConfigInput(target=2, always_allocate_cpu=False)
        ),
    ).body
    assert put.target == 2
    assert put.current == 2
    assert put.always_allocate_cpu is False
    assert put.function_arn.endswith("functions/p")
    # two real instances were started, and are kept past the idle timeout
    running = instances(emulator, "p")
    assert len(running) == 2
    assert all(i["pid"] > 0 and i["busy"] == 0 for i in running)
    time.sleep(IDLE_TIMEOUT_S * 2)
    got = fc.get_provision_config("p", m.GetProvisionConfigRequest(qualifier="LATEST")).body
    assert (got.target, got.current) == (2, 2)
    listed = fc.list_provision_configs(m.ListProvisionConfigsRequest()).body
    assert [(c.target, c.current) for c in listed.provision_configs] == [(2, 2)]
    listed_instances = fc.list_instances("p", m.ListInstancesRequest()).body.instances
    assert sorted(i.instance_id for i in listed_instances) == sorted(
        i["instance_id"] for i in running
    )
    assert all(i.instance_id.startswith("c-") for i in listed_instances)
    assert {i.qualifier for i in listed_instances} == {"LATEST"}
    assert all(i.status == "Running" and i.created_time_ms > 0 for i in listed_instances)
    assert {i.resource_type for i in listed_instances} == {"Provisioned"}
    # a request is served warm by a provisioned instance
    response = invoke(fc, "p", b"warm")
    assert response.headers["x-fc-instance-id"] in {i["instance_id"] for i in running}
    metrics = admin(emulator, "GET", "metrics?functionName=p").json()["functions"]["p"]
    assert metrics["coldStarts"] == 0
    fc.delete_provision_config("p", m.DeleteProvisionConfigRequest(qualifier="LATEST"))
    # no longer provisioned, the idle instances are reaped like on-demand ones
    wait_for("deprovisioned instances to be reaped", lambda: instances(emulator, "p") == [])
    assert fc.list_instances("p", m.ListInstancesRequest()).body.instances == []
    with pytest.raises(ClientException) as exc:
        fc.get_provision_config("p", m.GetProvisionConfigRequest(qualifier="LATEST"))
    assert (exc.value.status_code, exc.value.code) == (404, "ProvisionConfigNotFound")
    with pytest.raises(ClientException) as exc:
        fc.put_provision_config(
            "p", m.PutProvisionConfigRequest(body=m.PutProvisionConfigInput(target=10001))
        )
    assert exc.value.code == "InvalidArgument"


def test_list_instances_tells_provisioned_from_on_demand(fc: Client) -> None:
    create_function(fc, "mixed", code=code_of(SLEEP_PY))
    fc.put_provision_config(
        "mixed", m.PutProvisionConfigRequest(body=m.PutProvisionConfigInput(target=1))
    )

    def kinds() -> list[str]:
        found = fc.list_instances("mixed", m.ListInstancesRequest()).body.instances
        return sorted(i.resource_type for i in found)

    assert kinds() == ["Provisioned"]
    # two requests at once: the provisioned instance serves one, an on-demand one the other
    with ThreadPoolExecutor(2) as pool:
        calls = [pool.submit(invoke, fc, "mixed", b"1.5") for _ in range(2)]
        wait_for("an on-demand instance beside the provisioned one", lambda: len(kinds()) == 2)
        assert kinds() == ["OnDemand", "Provisioned"]
        assert [c.result().body.read() for c in calls] == [b"done", b"done"]
    wait_for("the idle on-demand instance to be reaped", lambda: kinds() == ["Provisioned"])


def test_concurrency_config(fc: Client) -> None:
    create_function(fc, "c1")
    create_function(fc, "c2")
    put = fc.put_concurrency_config(
        "c1", m.PutConcurrencyConfigRequest(body=m.PutConcurrencyInput(reserved_concurrency=60))
    ).body
    assert put.reserved_concurrency == 60
    assert put.function_arn.endswith("functions/c1")
    assert fc.get_concurrency_config("c1").body.reserved_concurrency == 60
    with pytest.raises(ClientException) as exc:  # 60 + 50 > the account limit of 100
        fc.put_concurrency_config(
            "c2", m.PutConcurrencyConfigRequest(body=m.PutConcurrencyInput(reserved_concurrency=50))
        )
    assert exc.value.code == "InvalidArgument"
    listed = fc.list_concurrency_configs(m.ListConcurrencyConfigsRequest()).body
    assert [c.reserved_concurrency for c in listed.configs] == [60]
    assert fc.delete_concurrency_config("c1").status_code == 204
    with pytest.raises(ClientException) as exc:
        fc.get_concurrency_config("c1")
    assert exc.value.status_code == 404


def test_async_invoke_config(fc: Client) -> None:
    create_function(fc, "a")
    put = fc.put_async_invoke_config(
        "a",
        m.PutAsyncInvokeConfigRequest(
            body=m.PutAsyncInvokeConfigInput(
                async_task=True,
                max_async_retry_attempts=2,
                max_async_event_age_in_seconds=600,
                destination_config=m.DestinationConfig(
                    on_failure=m.Destination(destination="acs:mns:cn-hangzhou:1:/queues/q")
                ),
            )
        ),
    ).body
    assert put.async_task is True
    assert put.max_async_retry_attempts == 2
    assert put.destination_config.on_failure.destination.endswith("/queues/q")
    got = fc.get_async_invoke_config("a", m.GetAsyncInvokeConfigRequest()).body
    assert got.max_async_event_age_in_seconds == 600
    assert got.created_time
    listed = fc.list_async_invoke_configs(m.ListAsyncInvokeConfigsRequest()).body
    assert [c.function_arn.rsplit("/", 1)[1] for c in listed.configs] == ["a"]
    fc.delete_async_invoke_config("a", m.DeleteAsyncInvokeConfigRequest())
    with pytest.raises(ClientException) as exc:
        fc.get_async_invoke_config("a", m.GetAsyncInvokeConfigRequest())
    assert exc.value.status_code == 404
    with pytest.raises(ClientException) as exc:
        fc.put_async_invoke_config(
            "a",
            m.PutAsyncInvokeConfigRequest(
                body=m.PutAsyncInvokeConfigInput(max_async_retry_attempts=99)
            ),
        )
    assert exc.value.code == "InvalidArgument"


def _layer(fc: Client, name: str, files: dict[str, str | bytes]) -> m.Layer:
    return fc.create_layer_version(
        name,
        m.CreateLayerVersionRequest(
            body=m.CreateLayerVersionInput(
                code=m.InputCodeLocation(zip_file=b64(make_zip(files))),
                compatible_runtime=["python3.10"],
                description="libs",
            )
        ),
    ).body


LAYERS_PY = """
import lib
import one

def handler(event, context):
    return f"{lib.X}{one.ONE}"
"""


def test_layers(fc: Client) -> None:
    zip_bytes = make_zip({"python/lib.py": "X = 1\n", "python/one.py": "ONE = 1\n"})
    first = fc.create_layer_version(
        "libs",
        m.CreateLayerVersionRequest(
            body=m.CreateLayerVersionInput(
                code=m.InputCodeLocation(zip_file=b64(zip_bytes)), compatible_runtime=["python3.10"]
            )
        ),
    ).body
    assert first.version == 1
    assert first.layer_name == "libs"
    assert first.code_checksum == code_checksum(zip_bytes)
    assert first.code_size == len(zip_bytes)
    assert first.layer_version_arn == "acs:fc:cn-hangzhou:1234567890:layers/libs/versions/1"
    assert first.compatible_runtime == ["python3.10"]
    assert httpx.get(first.code.location).content == zip_bytes
    second = _layer(fc, "libs", {"python/lib.py": "X = 2\n"})
    assert second.version == 2
    _layer(fc, "other", {"bin/x": "x"})
    got = fc.get_layer_version("libs", "2").body
    assert got.to_map() == second.to_map()
    by_arn = fc.get_layer_version_by_arn(first.layer_version_arn).body
    assert by_arn.version == 1
    layers = fc.list_layers(m.ListLayersRequest()).body
    assert [(x.layer_name, x.version) for x in layers.layers] == [("libs", 2), ("other", 1)]
    versions = fc.list_layer_versions("libs", m.ListLayerVersionsRequest(limit=1)).body
    assert [x.version for x in versions.layers] == [1]
    assert versions.next_version == 2
    f = create_function(
        fc,
        "uses",
        code=code_of(LAYERS_PY),
        layers=[second.layer_version_arn, first.layer_version_arn],
    )
    assert [x.arn for x in f.layers] == [second.layer_version_arn, first.layer_version_arn]
    assert f.layers[0].size == second.code_size
    # both layers are there for the handler, and the first one listed wins
    response = fc.invoke_function("uses", m.InvokeFunctionRequest(body=b"x"))
    assert "x-fc-error-type" not in response.headers
    assert response.body.read() == b"21"
    with pytest.raises(ClientException) as exc:
        fc.delete_layer_version("libs", "1")
    assert exc.value.code == "InvalidArgument"
    fc.delete_layer_version("other", "1")
    with pytest.raises(ClientException) as exc:
        fc.get_layer_version("other", "1")
    assert exc.value.status_code == 404


def test_list_instances_of_missing_function(fc: Client) -> None:
    with pytest.raises(ClientException) as exc:
        fc.list_instances("ghost", m.ListInstancesRequest())
    assert exc.value.code == "FunctionNotFound"

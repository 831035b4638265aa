"""Normalization: one canonical shape for submitted configs and GetFunction bodies."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_fc20230330 import models as fc

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway, RetryPolicy
from service.emulator import validation as emulator_rules
from service.emulator.server import EmbeddedEmulator
from service.functions.normalize import (
    BLOCKS,
    CODE_PATH,
    RESETS,
    SERVER_MANAGED,
    TOP_DEFAULTS,
    TOP_NEUTRAL,
    default_cpu,
    default_memory,
    is_in_sync,
    normalize,
    resets,
    tags_to_wire,
)
from tests.fc import access_to, running_emulator, zip_b64

MINIMAL: dict[str, Any] = {
    "functionName": "fn",
    "runtime": "python3.10",
    "handler": "index.handler",
}


def with_(**fields: Any) -> dict[str, Any]:
    return {**MINIMAL, **fields}


# --- shape and defaults -------------------------------------------------------


def test_minimal_config_gets_every_default() -> None:
    out = normalize(MINIMAL)
    assert out == {
        "cpu": 0.35,
        "description": "",
        "disableInjectCredentials": "None",
        "disableOndemand": False,
        "diskSize": 512,
        "enableLongLiving": False,
        "environmentVariables": {},
        "handler": "index.handler",
        "instanceConcurrency": 1,
        "internetAccess": True,
        "layers": [],
        "memorySize": 512,
        "runtime": "python3.10",
        "sessionAffinity": "NONE",
        "tags": {},
        "timeout": 3,
    }


@pytest.mark.parametrize(("field", "default"), sorted(TOP_DEFAULTS.items()))
def test_default_filled_equals_default_given(field: str, default: Any) -> None:
    assert normalize(with_(**{field: default})) == normalize(MINIMAL)
    assert normalize(with_(**{field: None})) == normalize(MINIMAL)


@pytest.mark.parametrize(
    ("field", "neutral"), [(k, v) for k, values in sorted(TOP_NEUTRAL.items()) for v in values]
)
def test_neutral_value_equals_absent(field: str, neutral: Any) -> None:
    unset = {k: v for k, v in MINIMAL.items() if k != field}
    assert field not in normalize(with_(**{field: neutral}))
    assert is_in_sync(with_(**{field: neutral}), unset)


def test_neutral_is_compared_with_its_type() -> None:
    # False is neutral for a flag, but 0 given for it is a value (and shows up).
    out = normalize(with_(logConfig={"project": "p", "logstore": "s", "enableLlmMetrics": 0}))
    assert out["logConfig"]["enableLlmMetrics"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("internetAccess", False),
        ("diskSize", 10240),
        ("instanceConcurrency", 10),
        ("timeout", 60),
        ("memorySize", 1024),
        ("description", "x"),
        ("role", "acs:ram::1:role/r"),
    ],
)
def test_non_default_value_differs(field: str, value: Any) -> None:
    assert normalize(with_(**{field: value}))[field] == value
    assert not is_in_sync(with_(**{field: value}), MINIMAL)


def test_output_is_json_serializable_and_deterministic() -> None:
    config = with_(
        tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}],
        environmentVariables={"Z": "1", "A": "2"},
        vpcConfig={"vSwitchIds": ["vsw-1"], "vpcId": "vpc-1", "securityGroupId": "sg-1"},
    )
    first = json.dumps(normalize(config))
    assert first == json.dumps(normalize(dict(reversed(list(config.items())))))
    assert list(json.loads(first)) == sorted(json.loads(first))


def test_input_is_not_mutated() -> None:
    config = with_(layers=[{"arn": "a", "size": 1}], vpcConfig={"vpcId": "v", "vSwitchIds": ["s"]})
    before = json.dumps(config, sort_keys=True)
    out = normalize(config)
    out["vpcConfig"]["vSwitchIds"].append("x")
    out["layers"].append("b")
    assert json.dumps(config, sort_keys=True) == before


def test_code_path_constant() -> None:
    assert CODE_PATH == "/code"


# --- server-managed and non-compared fields -----------------------------------

GET_FUNCTION_EXTRAS: dict[str, Any] = {
    "functionArn": "acs:fc:cn-hangzhou:1:functions/fn",
    "functionId": "aa715851-1c20",
    "createdTime": "2023-04-01T08:15:27Z",
    "lastModifiedTime": "2023-05-01T08:15:27Z",
    "codeSize": 412,
    "codeChecksum": "2825179536350",
    "state": "Active",
    "stateReason": "",
    "stateReasonCode": "",
    "lastUpdateStatus": "Successful",
    "lastUpdateStatusReason": "",
    "lastUpdateStatusReasonCode": "",
    "invocationImageUri": "registry/x@sha256:1",
    "invocationRestriction": {"disable": False, "reason": "", "lastModifiedTime": ""},
    "lockInfo": {"lockedAt": "", "lockedBy": "", "lockedResources": []},
    "resourceGroupId": "rg-acfm",
}


@pytest.mark.parametrize("field", sorted(GET_FUNCTION_EXTRAS))
def test_server_managed_field_is_dropped(field: str) -> None:
    assert field not in normalize(with_(**{field: GET_FUNCTION_EXTRAS[field]}))


def test_server_managed_list_covers_the_read_only_function_fields() -> None:
    read_only = _wire_fields(fc.Function) - _wire_fields(fc.CreateFunctionInput)
    assert read_only <= SERVER_MANAGED


def _wire_fields(model: Any) -> set[str]:
    """The wire names an SDK model reads, from its generated from_map()."""
    return set(re.findall(r"m\.get\('([^']+)'\)", inspect.getsource(model.from_map)))


def test_future_last_update_status_fields_are_dropped() -> None:
    assert "lastUpdateStatusDetail" not in normalize(with_(lastUpdateStatusDetail="x"))


def test_code_and_identity_are_not_compared() -> None:
    out = normalize(with_(code={"zipFile": "UEsDBA=="}, functionName="other"))
    assert "code" not in out
    assert "functionName" not in out
    assert normalize({"runtime": "python3.10", "handler": "index.handler"}) == normalize(MINIMAL)


def test_get_function_body_equals_its_submitted_config() -> None:
    body = {**with_(memorySize=512, cpu=0.35), **GET_FUNCTION_EXTRAS, "layers": [], "tags": []}
    assert is_in_sync(body, MINIMAL)


# --- cpu and memory -----------------------------------------------------------


@pytest.mark.parametrize(("left", "right"), [(1, 1.0), (0.5, 0.50), (2, 2.0000000000000004)])
def test_cpu_numbers_are_canonical(left: float, right: float) -> None:
    a = normalize(with_(cpu=left, memorySize=2048))
    b = normalize(with_(cpu=right, memorySize=2048))
    assert a == b
    assert json.dumps(a["cpu"]) == json.dumps(b["cpu"])


def test_integral_floats_become_ints_everywhere() -> None:
    out = normalize(with_(memorySize=1024.0, timeout=60.0, cpu=1.0, newField={"n": 2.0}))
    assert (out["memorySize"], out["timeout"], out["cpu"], out["newField"]) == (
        1024,
        60,
        1,
        {"n": 2},
    )
    assert all(type(out[k]) is int for k in ("memorySize", "timeout", "cpu"))


def test_cpu_float_noise_is_rounded() -> None:
    assert normalize(with_(cpu=0.1 + 0.2, memorySize=512))["cpu"] == 0.3


def test_cpu_defaults_from_memory() -> None:
    assert normalize(with_(memorySize=128))["cpu"] == 0.1
    assert normalize(with_(memorySize=1024))["cpu"] == 0.65
    assert normalize(with_(memorySize=1024)) == normalize(with_(memorySize=1024, cpu=0.65))


def test_memory_defaults_from_cpu() -> None:
    assert normalize(with_(cpu=1))["memorySize"] == 1536
    assert normalize(with_(cpu=1)) == normalize(with_(cpu=1, memorySize=1536))


def test_cpu_default_agrees_with_the_emulator() -> None:
    for memory in range(128, 32769, 64):
        assert default_cpu(memory) == emulator_rules.default_cpu(memory), memory


def test_memory_default_agrees_with_the_emulator() -> None:
    for steps in range(1, 321):
        cpu = round(steps * 0.05, 2)
        assert default_memory(cpu) == emulator_rules.default_memory(cpu), cpu


# --- environment variables ----------------------------------------------------


def test_env_values_become_strings() -> None:
    given = {"INT": 1, "FLOAT": 1.5, "WHOLE": 2.0, "YES": True, "NO": False, "NONE": None}
    assert normalize(with_(environmentVariables=given))["environmentVariables"] == {
        "FLOAT": "1.5",
        "INT": "1",
        "NO": "false",
        "NONE": "",
        "WHOLE": "2",
        "YES": "true",
    }


def test_env_numbers_equal_their_strings() -> None:
    assert is_in_sync(
        with_(environmentVariables={"PORT": 8080, "DEBUG": True}),
        with_(environmentVariables={"DEBUG": "true", "PORT": "8080"}),
    )


@pytest.mark.parametrize("empty", [None, {}])
def test_empty_env_equals_absent(empty: Any) -> None:
    assert is_in_sync(with_(environmentVariables=empty), MINIMAL)


def test_env_keys_are_sorted() -> None:
    out = normalize(with_(environmentVariables={"b": "1", "a": "2"}))
    assert list(out["environmentVariables"]) == ["a", "b"]


# --- layers -------------------------------------------------------------------

ARN_1 = "acs:fc:cn-hangzhou:1:layers/a/versions/1"
ARN_2 = "acs:fc:cn-hangzhou:1:layers/b/versions/3"


def test_layer_objects_equal_arn_strings() -> None:
    live = with_(layers=[{"arn": ARN_2, "size": 100}, {"arn": ARN_1, "size": 7}])
    submitted = with_(layers=[ARN_2, ARN_1])
    assert normalize(live)["layers"] == [ARN_2, ARN_1]
    assert is_in_sync(live, submitted)


def test_layer_order_is_kept() -> None:
    assert not is_in_sync(with_(layers=[ARN_1, ARN_2]), with_(layers=[ARN_2, ARN_1]))


@pytest.mark.parametrize("empty", [None, []])
def test_no_layers_equals_absent(empty: Any) -> None:
    assert is_in_sync(with_(layers=empty), MINIMAL)


# --- tags ---------------------------------------------------------------------


def test_tags_fold_to_a_sorted_map() -> None:
    live = with_(tags=[{"Key": "team", "Value": "x"}, {"Key": "env", "Value": "prod"}])
    out = normalize(live)["tags"]
    assert out == {"env": "prod", "team": "x"}
    assert list(out) == ["env", "team"]


def test_tags_order_and_spelling_do_not_matter() -> None:
    assert is_in_sync(
        with_(tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]),
        with_(tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]),
    )
    assert is_in_sync(
        with_(tags={"b": "2", "a": "1"}),
        with_(tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]),
    )


@pytest.mark.parametrize("empty", [None, [], {}])
def test_no_tags_equals_absent(empty: Any) -> None:
    assert is_in_sync(with_(tags=empty), MINIMAL)


def test_tag_value_change_differs() -> None:
    assert not is_in_sync(with_(tags={"a": "1"}), with_(tags={"a": "2"}))


def test_tags_to_wire() -> None:
    assert tags_to_wire({"b": "2", "a": "1"}) == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
    ]


# --- nested blocks ------------------------------------------------------------


@pytest.mark.parametrize("block", sorted(BLOCKS))
@pytest.mark.parametrize("empty", [None, {}, []])
def test_empty_block_equals_absent(block: str, empty: Any) -> None:
    out = normalize(with_(**{block: empty}))
    assert block not in out
    assert out == normalize(MINIMAL)


@pytest.mark.parametrize(
    ("block", "defaults_only"),
    [
        ("vpcConfig", {"vpcId": "", "vSwitchIds": [], "securityGroupId": ""}),
        (
            "logConfig",
            {
                "project": "",
                "logstore": "",
                "enableRequestMetrics": False,
                "enableInstanceMetrics": False,
                "logBeginRule": "None",
            },
        ),
        ("nasConfig", {"mountPoints": []}),
        ("ossMountConfig", {"mountPoints": []}),
        ("customDNS", {"nameServers": [], "searches": [], "dnsOptions": []}),
        ("tracingConfig", {"type": "", "params": {}}),
        ("instanceLifecycleConfig", {"initializer": {}, "preStop": None}),
        ("instanceLifecycleConfig", {"initializer": {"handler": "", "timeout": 3}}),
        ("customRuntimeConfig", {"port": 9000}),
        ("customRuntimeConfig", {"port": 9000.0, "command": [], "healthCheckConfig": {}}),
    ],
)
def test_block_of_defaults_equals_absent(block: str, defaults_only: dict[str, Any]) -> None:
    assert block not in normalize(with_(**{block: defaults_only}))


def test_vpc_block_keeps_what_is_set() -> None:
    out = normalize(with_(vpcConfig={"vpcId": "vpc-1", "vSwitchIds": ["vsw-2", "vsw-1"]}))
    assert out["vpcConfig"] == {"vSwitchIds": ["vsw-2", "vsw-1"], "vpcId": "vpc-1"}
    blank = with_(vpcConfig={"vpcId": "vpc-1", "vSwitchIds": ["vsw-2", "vsw-1"], "role": ""})
    assert is_in_sync(blank, with_(vpcConfig={"vSwitchIds": ["vsw-2", "vsw-1"], "vpcId": "vpc-1"}))


def test_log_config_partial_equals_full() -> None:
    partial = with_(logConfig={"project": "p", "logstore": "s"})
    full = with_(
        logConfig={
            "project": "p",
            "logstore": "s",
            "enableRequestMetrics": True,
            "enableInstanceMetrics": False,
            "enableLlmMetrics": False,
            "logBeginRule": "None",
        }
    )
    assert is_in_sync(partial, full)
    assert not is_in_sync(partial, with_(logConfig={"project": "p", "logstore": "other"}))
    no_metrics = with_(logConfig={"project": "p", "logstore": "s", "enableRequestMetrics": False})
    assert not is_in_sync(partial, no_metrics)


@pytest.mark.parametrize(
    ("block", "meaningless"),
    [
        # What fc3 sends to switch logging off, and FC then reports back.
        (
            "logConfig",
            {
                "project": "",
                "logstore": "",
                "enableRequestMetrics": False,
                "enableInstanceMetrics": False,
                "logBeginRule": "None",
            },
        ),
        ("nasConfig", {"userId": -1, "groupId": -1, "mountPoints": []}),
        ("ossMountConfig", {"mountPoints": None}),
        ("vpcConfig", {"role": "acs:ram::1:role/r"}),
        ("tracingConfig", {"type": "", "params": {"a": "b"}}),
        ("instanceLifecycleConfig", {"initializer": {"timeout": 10}, "preStop": {"handler": ""}}),
        ("customRuntimeConfig", {"healthCheckConfig": {"periodSeconds": 10}}),
        ("gpuConfig", {"gpuMemorySize": 0}),
    ],
)
def test_block_that_configures_nothing_equals_absent(
    block: str, meaningless: dict[str, Any]
) -> None:
    assert block not in normalize(with_(**{block: meaningless}))


def test_nas_mount_points_drop_neutral_values_and_keep_order() -> None:
    mounts: list[dict[str, Any]] = [
        {"serverAddr": "b.nas:/x", "mountDir": "/mnt/b"},
        {"serverAddr": "a.nas:/y", "mountDir": "/mnt/a", "enableTLS": True},
    ]
    out = normalize(with_(nasConfig={"mountPoints": mounts, "userId": 10}))["nasConfig"]
    assert out == {
        "userId": 10,
        "mountPoints": [
            {"mountDir": "/mnt/b", "serverAddr": "b.nas:/x"},
            {"enableTLS": True, "mountDir": "/mnt/a", "serverAddr": "a.nas:/y"},
        ],
    }
    explicit = [{**mounts[0], "enableTLS": False}, mounts[1]]
    assert is_in_sync(
        with_(nasConfig={"mountPoints": mounts}), with_(nasConfig={"mountPoints": explicit})
    )


def test_lifecycle_hook_gets_its_timeout_default() -> None:
    out = normalize(with_(instanceLifecycleConfig={"initializer": {"handler": "index.init"}}))
    assert out["instanceLifecycleConfig"] == {
        "initializer": {"handler": "index.init", "timeout": 3}
    }
    by_command = with_(instanceLifecycleConfig={"preStop": {"command": ["curl", "x"]}})
    assert normalize(by_command)["instanceLifecycleConfig"] == {
        "preStop": {"command": ["curl", "x"], "timeout": 3}
    }


def test_custom_runtime_port_default() -> None:
    submitted = with_(runtime="custom.debian10", customRuntimeConfig={"command": ["python"]})
    live = with_(
        runtime="custom.debian10",
        customRuntimeConfig={"command": ["python"], "port": 9000, "args": None},
    )
    assert is_in_sync(submitted, live)
    assert not is_in_sync(
        submitted,
        with_(runtime="custom.debian10", customRuntimeConfig={"command": ["python"], "port": 8080}),
    )


def test_health_check_defaults() -> None:
    out = normalize(with_(customRuntimeConfig={"healthCheckConfig": {"httpGetUrl": "/ready"}}))
    assert out["customRuntimeConfig"]["healthCheckConfig"] == {
        "failureThreshold": 3,
        "httpGetUrl": "/ready",
        "initialDelaySeconds": 0,
        "periodSeconds": 3,
        "successThreshold": 1,
        "timeoutSeconds": 1,
    }


def test_container_server_fields_are_dropped() -> None:
    submitted = with_(runtime="custom-container", customContainerConfig={"image": "r/i:1"})
    live = with_(
        runtime="custom-container",
        customContainerConfig={
            "image": "r/i:1",
            "resolvedImageUri": "r/i@sha256:abc",
            "accelerationInfo": {"status": "Ready"},
            "accelerationType": "Default",
        },
    )
    assert is_in_sync(submitted, live)


def test_unknown_field_inside_a_block_is_kept() -> None:
    out = normalize(with_(vpcConfig={"vpcId": "v", "newVpcThing": "x"}))
    assert out["vpcConfig"]["newVpcThing"] == "x"
    out = normalize(with_(customDNS={"newDnsThing": 1.0}))
    assert out["customDNS"] == {"newDnsThing": 1}


def test_block_of_wrong_shape_stays_visible() -> None:
    assert normalize(with_(logConfig="auto"))["logConfig"] == "auto"


# --- other fields -------------------------------------------------------------


def test_unknown_top_level_fields_are_kept_verbatim() -> None:
    out = normalize(with_(brandNewField={"b": [3, "x"], "a": True}, otherNew="v"))
    assert out["brandNewField"] == {"a": True, "b": [3, "x"]}
    assert out["otherNew"] == "v"
    assert not is_in_sync(with_(brandNewField=1), MINIMAL)


def test_session_affinity_config_is_canonical_json() -> None:
    a = with_(sessionAffinityConfig='{"b": 1, "a": {"y": 2, "x": 1.0}}')
    b = with_(sessionAffinityConfig='{"a":{"x":1,"y":2},"b":1}')
    assert is_in_sync(a, b)
    assert normalize(a)["sessionAffinityConfig"] == '{"a":{"x":1,"y":2},"b":1}'
    assert is_in_sync(a, with_(sessionAffinityConfig={"a": {"x": 1, "y": 2}, "b": 1}))
    assert is_in_sync(with_(sessionAffinityConfig=""), MINIMAL)
    assert normalize(with_(sessionAffinityConfig="not json"))["sessionAffinityConfig"] == (
        "not json"
    )


def test_session_affinity_none_equals_absent() -> None:
    assert is_in_sync(with_(sessionAffinity="NONE"), MINIMAL)
    assert not is_in_sync(with_(sessionAffinity="MCP_SSE"), MINIMAL)


# --- resets --------------------------------------------------------------------


def test_resets_name_what_live_has_and_desired_lacks() -> None:
    desired = normalize(MINIMAL)
    live = normalize(
        with_(
            role="acs:ram::1:role/r",
            vpcConfig={"vpcId": "v", "vSwitchIds": ["s"], "securityGroupId": "g"},
            logConfig={"project": "p", "logstore": "s"},
            customDNS={"nameServers": ["1.1.1.1"]},
            brandNewField="x",
        )
    )
    assert resets(desired, live) == {
        "customDNS": {},
        "logConfig": {
            "enableInstanceMetrics": False,
            "enableRequestMetrics": False,
            "logBeginRule": "None",
            "logstore": "",
            "project": "",
        },
        "role": "",
        "vpcConfig": {"securityGroupId": "", "vSwitchIds": [], "vpcId": ""},
    }
    assert resets(live, live) == {}


@pytest.mark.parametrize("field", sorted(set(RESETS) & set(BLOCKS)))
def test_every_block_reset_normalizes_to_absent(field: str) -> None:
    assert field not in normalize(with_(**{field: RESETS[field]}))


# --- round trip through the emulator over the SDK -----------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    with running_emulator(tmp_path_factory.mktemp("fc")) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def access(emulator: EmbeddedEmulator) -> FcAccess:
    return access_to(emulator)


@pytest.fixture(scope="module")
def gateway() -> FcGateway:
    return FcGateway(RetryPolicy(attempts=1, max_wait_s=0.01))


@pytest.fixture(scope="module")
def layer_arns(gateway: FcGateway, access: FcAccess) -> list[str]:
    client = gateway.client(access)
    arns = []
    for name in ("zeta", "alpha"):
        body = fc.CreateLayerVersionInput(
            code=fc.InputCodeLocation(zip_file=zip_b64({"index.py": "X = 1\n"})),
            compatible_runtime=["python3.10"],
        )
        layer = client.create_layer_version(name, fc.CreateLayerVersionRequest(body=body)).body
        arns.append(layer.layer_version_arn)
    return arns


CODE = {"zipFile": zip_b64({"index.py": "def handler(event, context):\n    return event\n"})}


async def _round_trip(gateway: FcGateway, access: FcAccess, config: dict[str, Any]) -> None:
    created = await gateway.create_function(access, config)
    live = await gateway.get_function(access, config["functionName"])
    assert normalize(live.body) == normalize(config)
    assert normalize(created.body) == normalize(config)


async def test_round_trip_minimal(gateway: FcGateway, access: FcAccess) -> None:
    await _round_trip(gateway, access, {**MINIMAL, "functionName": "rt-min", "code": CODE})


async def test_round_trip_memory_only(gateway: FcGateway, access: FcAccess) -> None:
    config = {**MINIMAL, "functionName": "rt-mem", "memorySize": 2048, "code": CODE}
    await _round_trip(gateway, access, config)


async def test_round_trip_cpu_only(gateway: FcGateway, access: FcAccess) -> None:
    await _round_trip(
        gateway, access, {**MINIMAL, "functionName": "rt-cpu", "cpu": 1.0, "code": CODE}
    )


async def test_round_trip_fully_specified(
    gateway: FcGateway, access: FcAccess, layer_arns: list[str]
) -> None:
    config: dict[str, Any] = {
        "functionName": "rt-full",
        "runtime": "python3.10",
        "handler": "index.handler",
        "code": CODE,
        "description": "all the things",
        "cpu": 1,
        "memorySize": 2048,
        "diskSize": 10240,
        "timeout": 120,
        "instanceConcurrency": 1,
        "internetAccess": False,
        "role": "acs:ram::1234567890:role/fc-role",
        "environmentVariables": {"B": "2", "A": "1"},
        "layers": layer_arns,  # zeta before alpha: order is config
        "tags": [{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "prod"}],
        "logConfig": {"project": "p", "logstore": "s", "enableRequestMetrics": True},
        "vpcConfig": {"vpcId": "vpc-1", "vSwitchIds": ["vsw-1"], "securityGroupId": "sg-1"},
        "nasConfig": {
            "userId": 10,
            "groupId": 10,
            "mountPoints": [{"serverAddr": "x.nas.aliyuncs.com:/", "mountDir": "/mnt/nas"}],
        },
        "ossMountConfig": {
            "mountPoints": [{"bucketName": "b", "bucketPath": "/", "mountDir": "/mnt/oss"}]
        },
        "customDNS": {"nameServers": ["1.1.1.1"], "dnsOptions": [{"name": "ndots", "value": "2"}]},
        "tracingConfig": {"type": "Jaeger", "params": {"endpoint": "http://j"}},
        "instanceLifecycleConfig": {
            "initializer": {"handler": "index.init", "timeout": 10},
            "preStop": {"handler": "index.stop"},
        },
        "disableOndemand": False,
        "sessionAffinity": "NONE",
    }
    await _round_trip(gateway, access, config)
    live = (await gateway.get_function(access, "rt-full")).body
    assert normalize(live)["layers"] == layer_arns
    assert normalize(live)["tags"] == {"env": "prod", "team": "core"}


async def test_round_trip_custom_runtime(gateway: FcGateway, access: FcAccess) -> None:
    config = {
        "functionName": "rt-custom",
        "runtime": "custom.debian10",
        "handler": "index.handler",
        "code": CODE,
        "memorySize": 1024,
        "cpu": 0.5,
        "instanceConcurrency": 20,
        "customRuntimeConfig": {
            "command": ["python3", "server.py"],
            "healthCheckConfig": {"httpGetUrl": "/ready", "periodSeconds": 5},
        },
    }
    await _round_trip(gateway, access, config)


async def test_update_changes_only_what_changed(gateway: FcGateway, access: FcAccess) -> None:
    config = {**MINIMAL, "functionName": "rt-upd", "code": CODE, "timeout": 10}
    await gateway.create_function(access, config)
    await gateway.update_function(access, "rt-upd", {"environmentVariables": {"K": "v"}})
    live = (await gateway.get_function(access, "rt-upd")).body
    expected = normalize({**config, "environmentVariables": {"K": "v"}})
    assert normalize(live) == expected


async def test_resets_clear_blocks_on_update(
    gateway: FcGateway, access: FcAccess, layer_arns: list[str]
) -> None:
    full = {
        **MINIMAL,
        "functionName": "rt-reset",
        "code": CODE,
        "role": "acs:ram::1234567890:role/fc-role",
        "layers": layer_arns,
        "environmentVariables": {"A": "1"},
        "vpcConfig": {"vpcId": "vpc-1", "vSwitchIds": ["vsw-1"], "securityGroupId": "sg-1"},
        "logConfig": {"project": "p", "logstore": "s"},
        "nasConfig": {"mountPoints": [{"serverAddr": "x:/", "mountDir": "/mnt/nas"}]},
        "ossMountConfig": {"mountPoints": [{"bucketName": "b", "mountDir": "/mnt/oss"}]},
        "tracingConfig": {"type": "Jaeger", "params": {"endpoint": "http://j"}},
        "customDNS": {"nameServers": ["1.1.1.1"]},
        "instanceLifecycleConfig": {"initializer": {"handler": "index.init"}},
    }
    await gateway.create_function(access, full)
    desired = normalize(MINIMAL)
    live = normalize((await gateway.get_function(access, "rt-reset")).body)
    body = {**desired, **resets(desired, live)}
    del body["tags"]  # TagResources' business, not UpdateFunction's
    await gateway.update_function(access, "rt-reset", body)
    assert normalize((await gateway.get_function(access, "rt-reset")).body) == desired


async def test_round_trip_custom_container(gateway: FcGateway, access: FcAccess) -> None:
    config = {
        "functionName": "rt-container",
        "runtime": "custom-container",
        "handler": "index.handler",
        "cpu": 1,
        "memorySize": 2048,
        "customContainerConfig": {
            "image": "registry.cn-hangzhou.aliyuncs.com/ns/app:v1",
            "port": 8080,
            "entrypoint": ["/app/server"],
            "healthCheckConfig": {"httpGetUrl": "/healthz"},
        },
    }
    await _round_trip(gateway, access, config)

"""The FC gateway against the emulator, over real HTTP with the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from service.cloud.access import Credentials, FcAccess
from service.cloud.errors import (
    FcAlreadyExists,
    FcAuthFailed,
    FcInvalidArgument,
    FcNotFound,
    FcServerError,
    FcThrottled,
    FcUnreachable,
)
from service.cloud.gateway import FcGateway, RetryPolicy
from service.emulator.server import EmbeddedEmulator
from tests.fc import AK, SK, access_to, inject, reset, running_emulator, zip_b64

ECHO = zip_b64({"index.py": "def handler(event, context):\n    return event\n"})


def config(name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "functionName": name,
        "runtime": "python3.10",
        "handler": "index.handler",
        "memorySize": 128,
        "cpu": 0.1,
        "timeout": 10,
        "code": {"zipFile": ECHO},
        **overrides,
    }


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    with running_emulator(tmp_path_factory.mktemp("fc")) as emulator:
        yield emulator


@pytest.fixture
def access(emulator: EmbeddedEmulator) -> Iterator[FcAccess]:
    yield access_to(emulator)
    reset(emulator)


@pytest.fixture
def gateway() -> FcGateway:
    return FcGateway(RetryPolicy(attempts=3, max_wait_s=0.05))


async def test_function_lifecycle_in_wire_names(gateway: FcGateway, access: FcAccess) -> None:
    created = await gateway.create_function(
        access, config("gw-fn", environmentVariables={"A": "1"})
    )
    assert created.body["functionName"] == "gw-fn"
    assert created.body["memorySize"] == 128
    assert created.body["environmentVariables"] == {"A": "1"}
    assert created.request_id

    updated = await gateway.update_function(access, "gw-fn", {"memorySize": 256, "timeout": 20})
    assert (updated.body["memorySize"], updated.body["timeout"]) == (256, 20)
    fetched = await gateway.get_function(access, "gw-fn")
    assert fetched.body["memorySize"] == 256
    assert fetched.body["codeChecksum"] == created.body["codeChecksum"]

    names = [f["functionName"] for f in await gateway.list_functions(access, prefix="gw-")]
    assert names == ["gw-fn"]
    code = await gateway.get_function_code(access, "gw-fn")
    assert code.body["checksum"] == created.body["codeChecksum"]

    invocation = await gateway.invoke(access, "gw-fn", b"ping")
    assert invocation.body == b"ping"
    assert invocation.error_type is None
    assert invocation.request_id

    await gateway.delete_function(access, "gw-fn")
    with pytest.raises(FcNotFound) as missing:
        await gateway.get_function(access, "gw-fn")
    assert missing.value.extra["fc_code"] == "FunctionNotFound"
    assert missing.value.status == 404


async def test_fc_errors_become_domain_errors(gateway: FcGateway, access: FcAccess) -> None:
    await gateway.create_function(access, config("dup"))
    with pytest.raises(FcAlreadyExists):
        await gateway.create_function(access, config("dup"))
    with pytest.raises(FcInvalidArgument) as invalid:
        await gateway.update_function(access, "dup", {"memorySize": 100})
    assert invalid.value.status == 422
    assert "memorySize" in invalid.value.detail
    assert invalid.value.extra["fc_code"] == "InvalidArgument"


async def test_throttling_is_retried_within_bounds(
    gateway: FcGateway, access: FcAccess, emulator: EmbeddedEmulator
) -> None:
    await gateway.create_function(access, config("busy"))
    inject(emulator, action="GetFunction", count=2, status=429)
    assert (await gateway.get_function(access, "busy")).body["functionName"] == "busy"
    inject(emulator, action="GetFunction", count=5, status=429, retryAfter=7)
    with pytest.raises(FcThrottled) as throttled:
        await gateway.get_function(access, "busy")
    assert throttled.value.extra["retry_after_s"] == 7
    assert throttled.value.status == 429


async def test_server_errors_carry_fc_request_id(
    gateway: FcGateway, access: FcAccess, emulator: EmbeddedEmulator
) -> None:
    await gateway.create_function(access, config("flaky"))
    inject(emulator, action="UpdateFunction", status=500, message="disk on fire")
    with pytest.raises(FcServerError) as failed:
        await gateway.update_function(access, "flaky", {"timeout": 5})
    assert "disk on fire" in failed.value.detail
    assert failed.value.extra["fc_request_id"]
    assert (await gateway.get_function(access, "flaky")).body["timeout"] == 10


async def test_bad_credentials_and_unreachable_endpoints(
    gateway: FcGateway, access: FcAccess
) -> None:
    wrong = FcAccess(
        "bad", "1", "cn-hangzhou", access.endpoint, Credentials(AK, "not-the-secret-value", None)
    )
    with pytest.raises(FcAuthFailed) as refused:
        await gateway.get_function(wrong, "anything")
    assert "not-the-secret-value" not in str(refused.value.detail)
    assert "bad" in refused.value.detail
    closed = FcAccess("gone", "1", "cn-hangzhou", "http://127.0.0.1:1", Credentials(AK, SK, None))
    with pytest.raises(FcUnreachable) as unreachable:
        await gateway.get_function(closed, "anything")
    assert SK not in unreachable.value.detail


async def test_a_changed_account_gets_a_new_client(access: FcAccess) -> None:
    gateway = FcGateway()
    first = gateway.client(access)
    assert gateway.client(access) is first
    rotated = FcAccess(
        access.alias,
        access.account_id,
        access.region,
        access.endpoint,
        Credentials(AK, "rotated-secret-value-123", None),
    )
    assert gateway.client(rotated) is not first
    assert len(gateway._clients) == 1


async def test_tags_are_set_and_removed_through_the_tag_api(
    gateway: FcGateway, access: FcAccess
) -> None:
    created = await gateway.create_function(
        access, config("tagged", tags=[{"Key": "team", "Value": "a"}])
    )
    arn = created.body["functionArn"]
    ids = await gateway.tag_function(access, arn, {"team": "b", "env": "prod", "tier": ""})
    assert len(ids) == 1
    assert ids[0]
    assert await gateway.list_function_tags(access, arn) == {
        "team": "b",
        "env": "prod",
        "tier": "",
    }
    removed = await gateway.untag_function(access, arn, ["env", "tier"])
    assert len(removed) == 1
    assert removed[0]
    fetched = await gateway.get_function(access, "tagged")
    assert fetched.body["tags"] == [{"Key": "team", "Value": "b"}]
    # Nothing to do is no call at all (FC refuses an empty TagResources).
    assert await gateway.tag_function(access, arn, {}) == []
    assert await gateway.untag_function(access, arn, []) == []
    # UntagResources takes at most 50 keys a call; keys the function lacks are no error.
    assert len(await gateway.untag_function(access, arn, [f"k{i}" for i in range(60)])) == 2
    assert await gateway.list_function_tags(access, arn) == {"team": "b"}


async def test_tag_calls_map_errors_and_retry_throttling(
    gateway: FcGateway, access: FcAccess, emulator: EmbeddedEmulator
) -> None:
    arn = (await gateway.create_function(access, config("tag-faults"))).body["functionArn"]
    inject(emulator, action="TagResources", status=500, message="tag store on fire")
    with pytest.raises(FcServerError) as failed:
        await gateway.tag_function(access, arn, {"team": "a"})
    assert "TagResources" in failed.value.detail
    assert "tag store on fire" in failed.value.detail
    assert failed.value.extra["fc_request_id"]
    assert await gateway.list_function_tags(access, arn) == {}

    inject(emulator, action="TagResources", count=2, status=429)
    assert await gateway.tag_function(access, arn, {"team": "a"})
    inject(emulator, action="UntagResources", count=5, status=429, retryAfter=3)
    with pytest.raises(FcThrottled) as throttled:
        await gateway.untag_function(access, arn, ["team"])
    assert throttled.value.extra["retry_after_s"] == 3
    inject(emulator, action="UntagResources", status=500, message="untag outage")
    with pytest.raises(FcServerError) as untag_failed:
        await gateway.untag_function(access, arn, ["team"])
    assert untag_failed.value.extra["fc_request_id"]
    assert await gateway.list_function_tags(access, arn) == {"team": "a"}

    with pytest.raises(FcInvalidArgument) as bad_key:
        await gateway.tag_function(access, arn, {"acs:reserved": "x"})
    assert bad_key.value.extra["fc_code"] == "InvalidArgument"
    gone = arn.replace("tag-faults", "no-such-function")
    with pytest.raises(FcNotFound):
        await gateway.tag_function(access, gone, {"team": "a"})

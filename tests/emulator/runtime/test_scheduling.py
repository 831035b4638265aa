"""Instance scheduling: throttling, idle reaping, provisioned instances, drop_function."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from service.emulator.runtime.contract import FunctionSpec, InvokeRequest, InvokeResult, Throttled
from service.emulator.runtime.manager import ProcessRuntime

SpecFactory = Callable[..., FunctionSpec]
RuntimeFactory = Callable[..., ProcessRuntime]

SLEEPY = {
    "index.py": """
        import time
        def handler(event, context):
            time.sleep(float(event or 0))
            return "done"
    """
}


async def test_standard_runtime_scales_out_one_request_per_instance(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(SLEEPY, instance_concurrency=10)  # ignored: one request per instance
    results = await asyncio.gather(
        *(runtime.invoke(spec, InvokeRequest(f"s-{i}", b"0.3")) for i in range(3))
    )
    assert len({r.instance_id for r in results}) == 3
    assert len(runtime.instances(spec.name)) == 3
    warm = await runtime.invoke(spec, InvokeRequest("s-warm", b""))
    assert not warm.cold_start
    assert warm.instance_id in {r.instance_id for r in results}


async def test_reserved_concurrency_throttles(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(SLEEPY, reserved_concurrency=1)
    busy = asyncio.create_task(runtime.invoke(spec, InvokeRequest("rc-1", b"0.5")))
    await asyncio.sleep(0.1)
    with pytest.raises(Throttled, match="Reserved concurrency"):
        await runtime.invoke(spec, InvokeRequest("rc-2", b""))
    assert (await busy).body == b"done"
    assert (await runtime.invoke(spec, InvokeRequest("rc-3", b""))).body == b"done"

    blocked = make_spec(SLEEPY, reserved_concurrency=0)
    with pytest.raises(Throttled) as info:
        await runtime.invoke(blocked, InvokeRequest("rc-4", b""))
    assert info.value.retry_after_s >= 1


async def test_account_limit_throttles(
    runtime_factory: RuntimeFactory, make_spec: SpecFactory
) -> None:
    runtime = runtime_factory(account_instance_limit=1)
    one, two = make_spec(SLEEPY), make_spec(SLEEPY)
    busy = asyncio.create_task(runtime.invoke(one, InvokeRequest("al-1", b"0.4")))
    await asyncio.sleep(0.1)
    with pytest.raises(Throttled, match="Account instance limit"):
        await runtime.invoke(two, InvokeRequest("al-2", b""))
    await busy


async def test_idle_instances_are_reaped(
    runtime_factory: RuntimeFactory, make_spec: SpecFactory
) -> None:
    runtime = runtime_factory(idle_timeout_s=0.3)
    spec = make_spec(SLEEPY)
    first = await runtime.invoke(spec, InvokeRequest("idle-1", b""))
    assert len(runtime.instances(spec.name)) == 1
    await asyncio.sleep(0.8)
    assert runtime.instances(spec.name) == []
    again = await runtime.invoke(spec, InvokeRequest("idle-2", b""))
    assert again.cold_start
    assert again.instance_id != first.instance_id


async def test_provisioned_instances_stay_warm(
    runtime_factory: RuntimeFactory, make_spec: SpecFactory
) -> None:
    runtime = runtime_factory(idle_timeout_s=0.2)
    spec = make_spec(
        {
            "index.py": """
                inits = []
                def init(context):
                    inits.append(1)
                def handler(event, context):
                    return str(len(inits))
            """
        },
        initializer="index.init",
    )
    await runtime.set_provisioned(spec, 2)
    provisioned = {i.instance_id for i in runtime.instances(spec.name)}
    assert len(provisioned) == 2
    result = await runtime.invoke(spec, InvokeRequest("p-1", b""))
    assert not result.cold_start
    assert result.instance_id in provisioned
    assert result.body == b"1"  # initialized while provisioning
    await asyncio.sleep(0.7)
    assert {i.instance_id for i in runtime.instances(spec.name)} == provisioned

    await runtime.set_provisioned(spec, 0)
    await asyncio.sleep(0.7)
    assert runtime.instances(spec.name) == []


async def test_drop_function_lets_busy_requests_finish(
    runtime: ProcessRuntime, make_spec: SpecFactory
) -> None:
    spec = make_spec(SLEEPY)
    busy = asyncio.create_task(runtime.invoke(spec, InvokeRequest("d-1", b"0.3")))
    idle = make_spec(SLEEPY, name=spec.name, code_checksum="other-config")
    await runtime.invoke(idle, InvokeRequest("d-0", b""))
    await asyncio.sleep(0.05)
    await runtime.drop_function(spec.name)
    result: InvokeResult = await busy
    assert result.body == b"done"
    await asyncio.sleep(0.1)
    assert runtime.instances(spec.name) == []


async def test_idle_instances_make_room_at_the_account_limit(
    runtime_factory: RuntimeFactory, make_spec: SpecFactory
) -> None:
    runtime = runtime_factory(account_instance_limit=1)
    one, two = make_spec(SLEEPY), make_spec(SLEEPY)
    await runtime.invoke(one, InvokeRequest("ev-1", b""))
    result = await runtime.invoke(two, InvokeRequest("ev-2", b""))
    assert result.body == b"done"
    assert runtime.instances(one.name) == []
    assert len(runtime.instances(two.name)) == 1

"""FC's limits enforced for real: timeout kill, out-of-memory stop, vCPU share."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from service.emulator.runtime.contract import FunctionSpec, InvokeRequest
from service.emulator.runtime.limits import Limits
from service.emulator.runtime.manager import ProcessRuntime

SpecFactory = Callable[..., FunctionSpec]
RuntimeFactory = Callable[..., ProcessRuntime]

CGROUPS = Limits("auto")
CGROUPS_HERE = CGROUPS.cpu_base is not None and CGROUPS.mem_base is not None
CGROUPS.close()
MODES = [
    pytest.param(
        "cgroup", marks=pytest.mark.skipif(not CGROUPS_HERE, reason="no cgroup v1 rights")
    ),
    "portable",
]


async def test_timeout_kills_the_instance(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {
            "index.py": """
                import time
                def handler(event, context):
                    print("sleeping")
                    time.sleep(30)
            """
        },
        timeout_s=1,
    )
    started = time.perf_counter()
    result = await runtime.invoke(spec, InvokeRequest("t-1", b""))
    elapsed = time.perf_counter() - started
    assert 1.0 <= elapsed < 10.0  # killed at the timeout, long before the 30 s sleep ends
    assert result.error_type == "UnhandledInvocationError"
    assert json.loads(result.body)["errorMessage"] == "Function time out after 1 seconds"
    assert result.duration_ms >= 1000
    assert "sleeping" in result.log.decode()
    assert runtime.instances(spec.name) == []  # killed, not reused


@pytest.mark.parametrize("mode", MODES)
async def test_runaway_allocation_is_stopped_as_out_of_memory(
    mode: str, runtime_factory: RuntimeFactory, make_spec: SpecFactory
) -> None:
    runtime = runtime_factory(limits=mode)
    spec = make_spec(
        {
            "index.py": """
                def handler(event, context):
                    if event == b"small":
                        return "fine"
                    hog = []
                    for _ in range(400):  # 4 GiB if nothing stopped it
                        hog.append(bytearray(10 * 1024 * 1024))
                    return "survived"
            """
        },
        memory_mb=128,
        # On a loaded machine the allocation loop is slow to reach the limit; the
        # function's timeout must not be what stops it first.
        timeout_s=120,
    )
    result = await runtime.invoke(spec, InvokeRequest("oom-1", b"big"))
    assert result.error_type == "UnhandledInvocationError"
    message = json.loads(result.body)["errorMessage"]
    assert "out of memory" in message
    assert "128 MB" in message
    assert result.max_memory_mb <= 128 + 8
    after = await runtime.invoke(spec, InvokeRequest("oom-2", b"small"))
    assert after.body == b"fine"
    assert after.instance_id != result.instance_id


BURN = {
    "index.py": """
        import json, time
        def handler(event, context):
            n = int(event)
            wall, cpu = time.perf_counter(), time.process_time()
            x = 0
            for i in range(n):
                x += i * i
            return json.dumps([time.perf_counter() - wall, time.process_time() - cpu])
    """
}


async def _burn(runtime: ProcessRuntime, spec: FunctionSpec, n: int) -> tuple[float, float]:
    wall, cpu = json.loads(
        (await runtime.invoke(spec, InvokeRequest(f"b{n}", str(n).encode()))).body
    )
    return float(wall), float(cpu)


@pytest.mark.parametrize("mode", MODES)
async def test_cpu_share_halves_speed(
    mode: str, runtime_factory: RuntimeFactory, make_spec: SpecFactory
) -> None:
    runtime = runtime_factory(limits=mode)
    full = make_spec(BURN, cpu=1.0, memory_mb=1024)
    half = make_spec(BURN, cpu=0.5, memory_mb=1024)
    # Size the loop to ~0.5 s of the full instance's own CPU time: long next to
    # the 100 ms CFS period, so period rounding stays well inside the 20%.
    _wall, cpu = await _burn(runtime, full, 1_000_000)
    await _burn(runtime, half, 1)
    n = int(1_000_000 * 0.5 / cpu)
    # On this kind of machine (2 vCPUs shared with other work) two things
    # blur a single wall-clock comparison: the cpu=1 reference run can wait
    # for a core, and the same loop can cost 0.45 or 0.8 CPU-seconds depending
    # on what runs next to it. So a round only counts when its reference did
    # not wait (wall ~ CPU time), and each run's wall time is taken per
    # CPU-second it used; on a quiet machine that is exactly the wall ratio.
    rounds: list[tuple[tuple[float, float], tuple[float, float]]] = []
    ratios: list[float] = []
    for _ in range(6):
        ref, run = await _burn(runtime, full, n), await _burn(runtime, half, n)
        rounds.append((ref, run))
        if ref[0] > ref[1] * 1.05:
            continue
        ratios.append((run[0] / run[1]) / (ref[0] / ref[1]))
        if 1.6 <= ratios[-1] <= 2.4:
            break
    if not ratios:
        # A precondition of the measurement, not the property under test.
        pytest.skip(f"machine too busy for a cpu=1 reference (wall, cpu): {rounds}")
    assert 1.6 <= ratios[-1] <= 2.4, f"{mode}: ratios {ratios}, (wall, cpu) rounds {rounds}"


def test_limits_mechanism_reports_what_is_active(tmp_path: Path) -> None:
    portable = ProcessRuntime(tmp_path, limits="portable").limits_mechanism()
    assert portable["cpu"] == "sigstop-duty-cycle"
    assert portable["memory"] == "rlimit-data"
    assert "SIGKILL" in portable["timeout"]


@pytest.mark.parametrize("mode", MODES)
async def test_max_memory_is_the_measured_peak(
    mode: str, runtime_factory: RuntimeFactory, make_spec: SpecFactory
) -> None:
    runtime = runtime_factory(limits=mode)
    spec = make_spec(
        {
            "index.py": """
                def handler(event, context):
                    block = bytearray(int(event) * 1024 * 1024)
                    block[::4096] = b"x" * len(block[::4096])  # touch every page
                    return "ok"
            """
        },
        memory_mb=512,
    )
    small = await runtime.invoke(spec, InvokeRequest("m-1", b"1"))
    big = await runtime.invoke(spec, InvokeRequest("m-2", b"150"))
    assert small.max_memory_mb < 60
    assert 150 <= big.max_memory_mb < 300
    assert f"Max Memory Used: {big.max_memory_mb:.2f} MB" in big.log.decode()


async def test_initializer_timeout(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {
            "index.py": """
                import time
                def init(context):
                    time.sleep(30)
                def handler(event, context):
                    return "never"
            """
        },
        initializer="index.init",
        initializer_timeout_s=1,
    )
    started = time.perf_counter()
    result = await runtime.invoke(spec, InvokeRequest("it-1", b""))
    assert time.perf_counter() - started < 3
    assert result.error_type == "UnhandledInvocationError"
    assert "initializer time out after 1 seconds" in json.loads(result.body)["errorMessage"]
    assert runtime.instances(spec.name) == []


def test_mechanism_can_be_forced_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FCPLANE_EMULATOR_LIMITS", "portable")
    runtime = ProcessRuntime(tmp_path)
    assert runtime.limits_mechanism()["cpu"] == "sigstop-duty-cycle"


@pytest.mark.skipif(not CGROUPS_HERE, reason="no cgroup v1 rights")
async def test_process_count_is_capped(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {
            "index.py": """
                import threading
                def handler(event, context):
                    stop = threading.Event()
                    started = 0
                    try:
                        for _ in range(5000):
                            threading.Thread(target=stop.wait, daemon=True).start()
                            started += 1
                    except RuntimeError:
                        pass
                    finally:
                        stop.set()
                    return str(started)
            """
        },
        memory_mb=1024,
    )
    result = await runtime.invoke(spec, InvokeRequest("pids-1", b""))
    assert result.error_type is None, result.body
    assert 500 < int(result.body) < 1024
    assert runtime.limits_mechanism()["processes"] == "cgroup-v1 pids.max=1024"

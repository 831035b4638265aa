"""FC's cpu/memory/disk rules, written once in service.functions.specs."""

from __future__ import annotations

from typing import Any

import pytest

from service.emulator import validation as emulator_rules
from service.emulator.errors import FCError
from service.functions.specs import (
    CPU_STEP,
    MEMORY_STEP,
    default_cpu,
    default_memory,
    memory_for,
    round_cpu,
    spec_problem,
)

ALL_CPUS = [round(steps * CPU_STEP, 2) for steps in range(1, 321)]
ALL_MEMORIES = list(range(128, 32769, MEMORY_STEP))


@pytest.mark.parametrize(
    ("cpu", "memory", "disk", "problem"),
    [
        # cpu: a multiple of 0.05 in [0.05, 16]
        (0.05, 128, None, None),
        (16, 16384, None, None),
        (16, 32768, None, None),
        (0.1 + 0.2, 512, None, None),  # float noise is not a wrong step
        (0, 128, None, "cpu 0 is not a multiple of 0.05 in [0.05, 16]"),
        (-0.05, 128, None, "cpu -0.05 is not a multiple of 0.05 in [0.05, 16]"),
        (0.07, 128, None, "cpu 0.07 is not a multiple of 0.05 in [0.05, 16]"),
        (16.05, 32768, None, "cpu 16.05 is not a multiple of 0.05 in [0.05, 16]"),
        # memorySize: a multiple of 64 MB in [128, 32768]
        (1, 1024, None, None),
        (0.05, 64, None, "memorySize 64 is not a multiple of 64 in [128, 32768]"),
        (16, 32832, None, "memorySize 32832 is not a multiple of 64 in [128, 32768]"),
        (1, 1000, None, "memorySize 1000 is not a multiple of 64 in [128, 32768]"),
        # memory GB / cpu in [1, 4], both ends included
        (1, 4096, None, None),
        (2, 2048, None, None),
        (1, 960, None, "memorySize 960 MB for cpu 1 is 0.94 GB per vCPU; FC needs 1 to 4"),
        (1, 4160, None, "memorySize 4160 MB for cpu 1 is 4.06 GB per vCPU; FC needs 1 to 4"),
        (0.05, 256, None, "memorySize 256 MB for cpu 0.05 is 5.00 GB per vCPU; FC needs 1 to 4"),
        (16, 8192, None, "memorySize 8192 MB for cpu 16 is 0.50 GB per vCPU; FC needs 1 to 4"),
        # diskSize: 512 or 10240, checked only when given, after cpu and memory
        (1, 2048, 512, None),
        (1, 2048, 10240, None),
        (1, 2048, 1024, "diskSize 1024 is not one of 512 or 10240 MB"),
        (0.07, 2048, 1024, "cpu 0.07 is not a multiple of 0.05 in [0.05, 16]"),
    ],
)
def test_spec_problem(cpu: float, memory: int, disk: int | None, problem: str | None) -> None:
    assert spec_problem(cpu, memory, disk) == problem


def _emulator_accepts(cpu: float, memory: int) -> bool:
    config: dict[str, Any] = {
        "cpu": cpu,
        "memorySize": memory,
        "diskSize": 512,
        "timeout": 3,
        "instanceConcurrency": 1,
        "runtime": "python3.12",
        "handler": "index.handler",
    }
    try:
        emulator_rules.check_spec(config)
    except FCError:
        return False
    return True


def test_rules_agree_with_the_emulator() -> None:
    # The emulator keeps its own copy on purpose (it stands in for FC); the two
    # must still agree, around every boundary.
    cpus = [0.0, 0.05, 0.1, 0.25, 0.35, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 16.05, 0.07]
    memories = [64, 128, 192, 256, 512, 960, 1024, 1000, 4096, 4160, 16384, 32768, 32832]
    for cpu in cpus:
        for memory in memories:
            assert (spec_problem(cpu, memory) is None) is _emulator_accepts(cpu, memory), (
                cpu,
                memory,
            )


@pytest.mark.parametrize(
    ("cpu", "rounded"),
    [(0.1 + 0.2, 0.3), (0.07, 0.05), (0.08, 0.1), (0.35, 0.35), (1, 1.0), (16.0, 16.0)],
)
def test_round_cpu_to_the_step(cpu: float, rounded: float) -> None:
    assert round_cpu(cpu) == rounded
    assert repr(round_cpu(cpu)) == repr(rounded)  # no float noise left


@pytest.mark.parametrize(
    ("memory", "cpu"),
    [(128, 0.1), (512, 0.35), (1024, 0.65), (1536, 1.0), (2048, 1.35), (32768, 16.0)],
)
def test_default_cpu(memory: int, cpu: float) -> None:
    assert default_cpu(memory) == cpu


def test_default_cpu_is_valid_for_every_memory_size() -> None:
    for memory in ALL_MEMORIES:
        cpu = default_cpu(memory)
        assert spec_problem(cpu, memory) is None, (memory, cpu)
        assert cpu == round_cpu(cpu), (memory, cpu)


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [(0.05, 128), (0.35, 512), (1.0, 1536), (2.0, 3072), (16.0, 24576)],
)
def test_default_memory(cpu: float, memory: int) -> None:
    assert default_memory(cpu) == memory


def test_default_memory_is_valid_for_every_cpu() -> None:
    for cpu in ALL_CPUS:
        assert spec_problem(cpu, default_memory(cpu)) is None, cpu


@pytest.mark.parametrize(
    ("cpu", "gb_per_cpu", "memory"),
    [
        (1.0, 2.0, 2048),
        (1.0, 1.5, 1536),
        (0.35, 2.0, 768),  # 716.8 MB rounds up to the next 64 MB
        (1.0, 0.5, 1024),  # ratio clamped up to 1
        (1.0, 9.0, 4096),  # ratio clamped down to 4
        (16.0, 4.0, 32768),  # 65536 MB clamped to the maximum size
        (0.05, 1.0, 128),  # 51.2 MB raised to the minimum size: 2.5 GB per vCPU
        (0.05, 4.0, 256),  # rounding up leaves FC's bounds: 5 GB per vCPU
    ],
)
def test_memory_for_a_cpu_at_a_ratio(cpu: float, gb_per_cpu: float, memory: int) -> None:
    assert memory_for(cpu, gb_per_cpu) == memory


def test_memory_for_keeps_at_least_the_asked_ratio_where_fc_allows_it() -> None:
    for cpu in ALL_CPUS[::7]:
        for ratio in (1.0, 1.5, 2.0, 3.0):
            memory = memory_for(cpu, ratio)
            if memory < 32768:
                assert memory / 1024 / cpu >= ratio - 1e-9, (cpu, ratio)
                assert (memory - MEMORY_STEP) / 1024 / cpu < ratio or memory == 128, (cpu, ratio)

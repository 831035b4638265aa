"""FC 3.0's rules for a function's cpu, memory and disk, written once.

From FC's API reference: cpu is a multiple of 0.05 vCPU in [0.05, 16];
memorySize a multiple of 64 MB in [128, 32768]; memory in GB divided by cpu
lies between 1 and 4; diskSize is 512 or 10240 MB. What FC picks for cpu when
only memorySize is given is *unconfirmed*: the rule here (memory GB / 1.5,
rounded to a 0.05 step and kept within the ratio bounds: 0.35 vCPU at 512 MB)
is the emulator's, and ``default_memory`` is its inverse.

The config normalizer and the eval pricing use this module. The emulator
(``service.emulator.validation``) keeps its own copy on purpose: it stands in
for FC, so it checks independently of fcplane, and a test compares the two.
"""

from __future__ import annotations

import math

CPU_STEP = 0.05
CPU_MIN, CPU_MAX = 0.05, 16.0
MEMORY_STEP = 64
MEMORY_MIN, MEMORY_MAX = 128, 32768
MIN_GB_PER_CPU, MAX_GB_PER_CPU = 1.0, 4.0
DISK_SIZES = (512, 10240)
GB_PER_DEFAULT_CPU = 1.5  # unconfirmed, see the module docstring

# cpu arrives as a float (0.1 + 0.2 is not 0.3): step and ratio checks allow
# this much rounding noise rather than refusing a spec the user wrote exactly.
_CPU_STEP_TOLERANCE = 1e-6
_RATIO_TOLERANCE = 1e-9


def cpu_problem(cpu: float) -> str | None:
    """Why FC would refuse ``cpu``, or None."""
    steps = cpu / CPU_STEP
    if not CPU_MIN <= cpu <= CPU_MAX or abs(steps - round(steps)) > _CPU_STEP_TOLERANCE:
        return f"cpu {cpu:g} is not a multiple of {CPU_STEP:g} in [{CPU_MIN:g}, {CPU_MAX:g}]"
    return None


def memory_problem(memory_mb: int) -> str | None:
    """Why FC would refuse ``memorySize``, or None."""
    if not MEMORY_MIN <= memory_mb <= MEMORY_MAX or memory_mb % MEMORY_STEP:
        return (
            f"memorySize {memory_mb} is not a multiple of {MEMORY_STEP} "
            f"in [{MEMORY_MIN}, {MEMORY_MAX}]"
        )
    return None


def disk_problem(disk_mb: int) -> str | None:
    """Why FC would refuse ``diskSize``, or None."""
    if disk_mb not in DISK_SIZES:
        return f"diskSize {disk_mb} is not one of {' or '.join(map(str, DISK_SIZES))} MB"
    return None


def spec_problem(cpu: float, memory_mb: int, disk_mb: int | None = None) -> str | None:
    """Why FC would refuse this cpu/memory (and disk) combination, or None: the
    first broken rule, worded for an error message."""
    problem = cpu_problem(cpu) or memory_problem(memory_mb)
    if problem is not None:
        return problem
    ratio = memory_mb / 1024 / cpu
    if not MIN_GB_PER_CPU - _RATIO_TOLERANCE <= ratio <= MAX_GB_PER_CPU + _RATIO_TOLERANCE:
        return (
            f"memorySize {memory_mb} MB for cpu {cpu:g} is {ratio:.2f} GB per vCPU; "
            f"FC needs {MIN_GB_PER_CPU:g} to {MAX_GB_PER_CPU:g}"
        )
    return None if disk_mb is None else disk_problem(disk_mb)


def round_cpu(cpu: float) -> float:
    """``cpu`` on the nearest 0.05 step, without float noise (0.30000000000000004 is 0.3)."""
    return round(round(cpu / CPU_STEP) * CPU_STEP, 2)


def default_cpu(memory_mb: int) -> float:
    """The cpu FC gives a memory size when no cpu is given (unconfirmed rule, see above)."""
    gb = memory_mb / 1024
    cpu = round(gb / GB_PER_DEFAULT_CPU / CPU_STEP) * CPU_STEP
    cpu = min(max(cpu, gb / MAX_GB_PER_CPU, CPU_MIN), gb / MIN_GB_PER_CPU, CPU_MAX)
    return round_cpu(cpu)


def default_memory(cpu: float) -> int:
    """The memory FC gives a cpu when no memorySize is given: default_cpu's inverse, on a
    64 MB step and within the ratio and size bounds."""
    mb = round(cpu * GB_PER_DEFAULT_CPU * 1024 / MEMORY_STEP) * MEMORY_STEP
    low = max(float(MEMORY_MIN), cpu * MIN_GB_PER_CPU * 1024)
    high = min(float(MEMORY_MAX), cpu * MAX_GB_PER_CPU * 1024)
    while mb < low:
        mb += MEMORY_STEP
    while mb > high:
        mb -= MEMORY_STEP
    return int(mb)


def memory_for(cpu: float, gb_per_cpu: float) -> int:
    """The smallest memory size on a 64 MB step giving ``cpu`` at least ``gb_per_cpu`` GB
    per vCPU, the ratio clamped to FC's bounds and the size to FC's range.

    For tiny cpus the 64 MB step and the 128 MB floor move the ratio: 0.05 vCPU
    gets 128 MB (2.5 GB per vCPU) when 1 is asked, and 256 MB (5, outside FC's
    bounds) when 4 is asked. Check the result with ``spec_problem`` where that
    matters.
    """
    ratio = min(MAX_GB_PER_CPU, max(MIN_GB_PER_CPU, gb_per_cpu))
    memory = math.ceil(cpu * ratio * 1024 / MEMORY_STEP) * MEMORY_STEP
    return max(MEMORY_MIN, min(MEMORY_MAX, memory))

"""FC's spec rules and CU price model (FC-WIRE.md), in one place so they are easy to correct."""

from __future__ import annotations

import math
from dataclasses import dataclass

from service.kit.settings import Settings

CPU_STEP, CPU_MIN, CPU_MAX = 0.05, 0.05, 16.0
MEMORY_STEP, MEMORY_MIN, MEMORY_MAX = 64, 128, 32768
MIN_GB_PER_CPU, MAX_GB_PER_CPU = 1.0, 4.0
FREE_DISK_MB = 512


def spec_problem(cpu: float, memory_mb: int) -> str | None:
    """Why FC would refuse this cpu/memory pair, or None."""
    steps = cpu / CPU_STEP
    if not CPU_MIN <= cpu <= CPU_MAX or abs(steps - round(steps)) > 1e-6:
        return f"cpu {cpu:g} is not a multiple of {CPU_STEP:g} in [{CPU_MIN:g}, {CPU_MAX:g}]"
    if not MEMORY_MIN <= memory_mb <= MEMORY_MAX or memory_mb % MEMORY_STEP:
        return (
            f"memorySize {memory_mb} is not a multiple of {MEMORY_STEP} "
            f"in [{MEMORY_MIN}, {MEMORY_MAX}]"
        )
    ratio = memory_mb / 1024 / cpu
    if not MIN_GB_PER_CPU - 1e-9 <= ratio <= MAX_GB_PER_CPU + 1e-9:
        return (
            f"memorySize {memory_mb} MB for cpu {cpu:g} is {ratio:.2f} GB per vCPU; "
            f"FC needs {MIN_GB_PER_CPU:g} to {MAX_GB_PER_CPU:g}"
        )
    return None


def normalize_cpu(cpu: float) -> float:
    return round(round(cpu / CPU_STEP) * CPU_STEP, 2)


def memory_for(cpu: float, gb_per_cpu: float) -> int:
    """The smallest valid memory size giving at least ``gb_per_cpu`` GB per vCPU."""
    ratio = min(MAX_GB_PER_CPU, max(MIN_GB_PER_CPU, gb_per_cpu))
    memory = math.ceil(cpu * ratio * 1024 / MEMORY_STEP) * MEMORY_STEP
    memory = max(MEMORY_MIN, min(MEMORY_MAX, memory))
    # Rounding up may cross the upper ratio bound for tiny cpus (0.05 vCPU, 128 MB).
    return memory


DEFAULT_CPU_LADDER = (0.25, 0.5, 1.0, 2.0, 4.0)


def default_ladder(live_cpu: float, live_memory: int) -> list[tuple[float, int]]:
    """cpu doubling around the usual range, each at the live function's GB-per-vCPU ratio
    (clamped to FC's bounds), plus the live spec itself."""
    ratio = live_memory / 1024 / live_cpu if live_cpu > 0 else 2.0
    specs = {(cpu, memory_for(cpu, ratio)) for cpu in DEFAULT_CPU_LADDER}
    specs = {s for s in specs if spec_problem(*s) is None}
    if spec_problem(live_cpu, live_memory) is None:
        specs.add((normalize_cpu(live_cpu), live_memory))
    return sorted(specs)


@dataclass(frozen=True)
class PriceModel:
    price_per_cu: float
    cu_per_vcpu_second: float
    cu_per_gb_second: float
    cu_per_disk_gb_second: float
    cu_per_10k_invocations: float

    @classmethod
    def from_settings(cls, settings: Settings) -> PriceModel:
        return cls(
            price_per_cu=settings.price_per_cu,
            cu_per_vcpu_second=settings.cu_per_vcpu_second,
            cu_per_gb_second=settings.cu_per_gb_second,
            cu_per_disk_gb_second=settings.cu_per_disk_gb_second,
            cu_per_10k_invocations=settings.cu_per_10k_invocations,
        )

    def cu_per_invocation(
        self, cpu: float, memory_mb: int, billed_ms: float, disk_mb: int = FREE_DISK_MB
    ) -> float:
        seconds = billed_ms / 1000
        extra_disk_gb = max(0, disk_mb - FREE_DISK_MB) / 1024
        return (
            cpu * seconds * self.cu_per_vcpu_second
            + memory_mb / 1024 * seconds * self.cu_per_gb_second
            + extra_disk_gb * seconds * self.cu_per_disk_gb_second
            + self.cu_per_10k_invocations / 10_000
        )

    def cost_per_invocation(
        self, cpu: float, memory_mb: int, billed_ms: float, disk_mb: int = FREE_DISK_MB
    ) -> float:
        return self.cu_per_invocation(cpu, memory_mb, billed_ms, disk_mb) * self.price_per_cu

    def as_dict(self) -> dict[str, float]:
        return {
            "price_per_cu": self.price_per_cu,
            "cu_per_vcpu_second": self.cu_per_vcpu_second,
            "cu_per_gb_second": self.cu_per_gb_second,
            "cu_per_disk_gb_second": self.cu_per_disk_gb_second,
            "cu_per_10k_invocations": self.cu_per_10k_invocations,
        }

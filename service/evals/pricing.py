"""FC's CU price model, and the specs an eval tries by default.

FC's cpu/memory rules themselves live in ``service.functions.specs``.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.functions.specs import memory_for, round_cpu
from service.functions.specs import spec_problem as spec_problem  # evals.schemas checks with it
from service.kit.settings import Settings

FREE_DISK_MB = 512


DEFAULT_CPU_LADDER = (0.25, 0.5, 1.0, 2.0, 4.0)


def default_ladder(live_cpu: float, live_memory: int) -> list[tuple[float, int]]:
    """cpu doubling around the usual range, each at the live function's GB-per-vCPU ratio
    (clamped to FC's bounds), plus the live spec itself."""
    ratio = live_memory / 1024 / live_cpu if live_cpu > 0 else 2.0
    specs = {(cpu, memory_for(cpu, ratio)) for cpu in DEFAULT_CPU_LADDER}
    specs = {s for s in specs if spec_problem(*s) is None}
    if spec_problem(live_cpu, live_memory) is None:
        specs.add((round_cpu(live_cpu), live_memory))
    return sorted(specs)


@dataclass(frozen=True)
class PriceModel:
    price_per_cu: float
    cu_per_vcpu_second: float
    cu_per_gb_second: float
    cu_per_disk_gb_second: float
    cu_per_10k_invocations: float
    currency: str = "USD"

    @classmethod
    def from_settings(cls, settings: Settings) -> PriceModel:
        return cls(
            price_per_cu=settings.price_per_cu,
            cu_per_vcpu_second=settings.cu_per_vcpu_second,
            cu_per_gb_second=settings.cu_per_gb_second,
            cu_per_disk_gb_second=settings.cu_per_disk_gb_second,
            cu_per_10k_invocations=settings.cu_per_10k_invocations,
            currency=settings.price_currency,
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

    def cost_per_second(self, cpu: float, memory_mb: int, disk_mb: int = FREE_DISK_MB) -> float:
        """What a second of running costs at this spec: of two specs that run equally long,
        the one with the lower rate is the cheaper."""
        per_call = self.cu_per_10k_invocations / 10_000
        cu = self.cu_per_invocation(cpu, memory_mb, 1000.0, disk_mb) - per_call
        return cu * self.price_per_cu

    def as_dict(self) -> dict[str, float | str]:
        return {
            "price_per_cu": self.price_per_cu,
            "cu_per_vcpu_second": self.cu_per_vcpu_second,
            "cu_per_gb_second": self.cu_per_gb_second,
            "cu_per_disk_gb_second": self.cu_per_disk_gb_second,
            "cu_per_10k_invocations": self.cu_per_10k_invocations,
            "currency": self.currency,
        }

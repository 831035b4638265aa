"""Spec mode: the same invocations at several cpu/memory specs on a disposable copy.

Durations are what FC bills: each invocation's ``x-fc-invocation-duration``
rounded up to the millisecond, averaged after trimming the fastest and slowest
``trim`` share (cold caches, a noisy neighbour). Cost per invocation comes from
the CU price model; the recommendation applies the chosen strategy to those
two numbers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from service.evals.copies import disposable_copy
from service.evals.pricing import FREE_DISK_MB, PriceModel, default_ladder
from service.evals.schemas import EvalSpecParams
from service.jobs.contract import JobContext
from service.loadtest.plan import encode_body


@dataclass
class Samples:
    billed_ms: list[int] = field(default_factory=list)
    memory_mb: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)


def billed(duration_header: str | None) -> int | None:
    if duration_header is None:
        return None
    return max(1, math.ceil(float(duration_header)))


def trimmed_mean(values: list[int], trim: float) -> float:
    ordered = sorted(values)
    cut = int(len(ordered) * trim)
    kept = ordered[cut : len(ordered) - cut] or ordered
    return sum(kept) / len(kept)


def spec_figures(
    cpu: float,
    memory: int,
    samples: Samples,
    trim: float,
    price: PriceModel,
    disk_mb: int,
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "cpu": cpu,
        "memorySize": memory,
        "invocations": len(samples.billed_ms) + sum(samples.errors.values()),
        "errors": sum(samples.errors.values()),
        "error_types": samples.errors,
    }
    if not samples.billed_ms:
        return {**figures, "duration_ms": None, "cost_per_invocation": None}
    duration = trimmed_mean(samples.billed_ms, trim)
    ordered = sorted(samples.billed_ms)
    return {
        **figures,
        "duration_ms": round(duration, 2),
        "cost_per_invocation": price.cost_per_invocation(cpu, memory, duration, disk_mb),
        "cu_per_invocation": round(price.cu_per_invocation(cpu, memory, duration, disk_mb), 6),
        "min_ms": ordered[0],
        "p50_ms": ordered[(len(ordered) - 1) // 2],
        "max_ms": ordered[-1],
        "max_memory_mb": round(max(samples.memory_mb), 2) if samples.memory_mb else None,
    }


def recommend(
    specs: list[dict[str, Any]], strategy: str, weight: float = 0.5
) -> dict[str, Any] | None:
    """Pick a spec among those that never failed; None when every spec failed."""
    ok = [s for s in specs if s["duration_ms"] is not None and not s["errors"]]
    if not ok:
        return None
    cheapest = min(s["cost_per_invocation"] for s in ok)
    fastest = min(s["duration_ms"] for s in ok)

    def score(s: dict[str, Any]) -> float:
        cost = s["cost_per_invocation"] / cheapest if cheapest else 1.0
        return float(weight * cost + (1 - weight) * s["duration_ms"] / fastest)

    if strategy == "cost":
        best = min(ok, key=lambda s: (s["cost_per_invocation"], s["duration_ms"]))
    elif strategy == "speed":
        best = min(ok, key=lambda s: (s["duration_ms"], s["cost_per_invocation"]))
    else:
        best = min(ok, key=lambda s: (score(s), s["cost_per_invocation"]))
    chosen: dict[str, Any] = {
        "cpu": best["cpu"],
        "memorySize": best["memorySize"],
        "strategy": strategy,
        "duration_ms": best["duration_ms"],
        "cost_per_invocation": best["cost_per_invocation"],
        "cost_per_1m": best["cost_per_invocation"] * 1_000_000,
        "cheapest_cost_per_invocation": cheapest,
        "fastest_duration_ms": fastest,
        "relative_cost": round(best["cost_per_invocation"] / cheapest, 4) if cheapest else 1.0,
        "relative_duration": round(best["duration_ms"] / fastest, 4),
    }
    if strategy == "balanced":
        chosen["balanced_weight"] = weight
        chosen["score"] = round(score(best), 4)
        chosen["scores"] = [
            {"cpu": s["cpu"], "memorySize": s["memorySize"], "score": round(score(s), 4)}
            for s in ok
        ]
    return chosen


async def measure(
    ctx: JobContext,
    name: str,
    payload: bytes,
    warmup: int,
    invocations: int,
    on_step: Any,
) -> Samples:
    samples = Samples()
    for i in range(warmup + invocations):
        await ctx.check_cancelled()
        inv = await ctx.gateway.invoke(ctx.access, name, payload)
        await on_step()
        if i < warmup:
            continue
        if inv.error_type or inv.status >= 400:
            kind = inv.error_type or f"HTTP {inv.status}"
            samples.errors[kind] = samples.errors.get(kind, 0) + 1
            continue
        ms = billed(inv.headers.get("x-fc-invocation-duration"))
        if ms is None:
            samples.errors["NoDurationHeader"] = samples.errors.get("NoDurationHeader", 0) + 1
            continue
        samples.billed_ms.append(ms)
        if "x-fc-max-memory-usage" in inv.headers:
            samples.memory_mb.append(float(inv.headers["x-fc-max-memory-usage"]))
    return samples


async def run_spec_eval(ctx: JobContext, params: EvalSpecParams) -> dict[str, Any]:
    price = PriceModel.from_settings(ctx.settings)
    payload = encode_body(params.payload)
    started = time.monotonic()
    async with disposable_copy(ctx.gateway, ctx.access, ctx.function_name) as copy:
        live = copy.live
        live_spec = (float(live.get("cpu") or 0), int(live.get("memorySize") or 0))
        if params.specs:
            specs = [(s.cpu, s.memorySize) for s in params.specs]
        else:
            specs = default_ladder(*live_spec)
        disk = int(live.get("diskSize") or FREE_DISK_MB)
        total = len(specs) * (params.warmup + params.invocations)
        done = 0

        async def step() -> None:
            nonlocal done
            done += 1
            await ctx.progress(done / total * 0.99, f"invocation {done} of {total}")

        results = []
        for cpu, memory in specs:
            await ctx.check_cancelled()
            await ctx.gateway.update_function(
                ctx.access, copy.name, {"cpu": cpu, "memorySize": memory}
            )
            samples = await measure(
                ctx, copy.name, payload, params.warmup, params.invocations, step
            )
            results.append(spec_figures(cpu, memory, samples, params.trim, price, disk))
        copy_name = copy.name
    live_figures = next((s for s in results if (s["cpu"], s["memorySize"]) == live_spec), None)
    return {
        "specs": results,
        "recommendation": recommend(results, params.strategy, params.balanced_weight),
        "live": {"cpu": live_spec[0], "memorySize": live_spec[1], "measured": live_figures},
        "copy": copy_name,
        "trim": params.trim,
        "invocations": params.invocations,
        "warmup": params.warmup,
        "price_model": price.as_dict(),
        "wall_s": round(time.monotonic() - started, 2),
    }

"""Spec mode: the same invocations at several cpu/memory specs on a disposable copy.

Durations are what FC bills: each invocation's ``x-fc-invocation-duration``
rounded up to the millisecond, averaged after trimming the fastest and slowest
``trim`` share (cold caches, a noisy neighbour), with a 95% interval on that
trimmed mean (:mod:`service.evals.stats`). Cost per invocation comes from the
CU price model; the recommendation (:mod:`service.evals.recommend`) applies the
chosen strategy to those numbers and their intervals.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from service.evals.copies import disposable_copy
from service.evals.pricing import FREE_DISK_MB, PriceModel, default_ladder
from service.evals.recommend import recommend
from service.evals.schemas import EvalSpecParams
from service.evals.stats import T_METHOD_TEXT, TIMER_RESOLUTION_MS, trimmed_interval
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
    ci = trimmed_interval(samples.billed_ms, trim)
    cost_ci = None
    if ci is not None:
        cost_ci = {
            "low": price.cost_per_invocation(cpu, memory, ci["low"], disk_mb),
            "high": price.cost_per_invocation(cpu, memory, ci["high"], disk_mb),
        }
    return {
        **figures,
        "duration_ms": round(duration, 2),
        "ci": ci,
        "cost_per_invocation": price.cost_per_invocation(cpu, memory, duration, disk_mb),
        "cost_ci": cost_ci,
        "cu_per_invocation": round(price.cu_per_invocation(cpu, memory, duration, disk_mb), 6),
        "min_ms": ordered[0],
        "p50_ms": ordered[(len(ordered) - 1) // 2],
        "max_ms": ordered[-1],
        "max_memory_mb": round(max(samples.memory_mb), 2) if samples.memory_mb else None,
    }


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
        results: list[dict[str, Any]] = []

        async def step() -> None:
            nonlocal done
            done += 1
            await ctx.progress(
                done / total * 0.99,
                f"invocation {done} of {total}",
                live={"step": len(results), "steps": len(specs), "partial": list(results)},
            )

        for cpu, memory in specs:
            await ctx.check_cancelled()
            await ctx.gateway.update_function(
                ctx.access, copy.name, {"cpu": cpu, "memorySize": memory}
            )
            samples = await measure(
                ctx, copy.name, payload, params.warmup, params.invocations, step
            )
            results.append(spec_figures(cpu, memory, samples, params.trim, price, disk))
        await ctx.progress(
            0.99, "measured", live={"step": len(specs), "steps": len(specs), "partial": results}
        )
        copy_name = copy.name
    live_figures = next((s for s in results if (s["cpu"], s["memorySize"]) == live_spec), None)
    recommendation = recommend(
        results,
        params.strategy,
        params.balanced_weight,
        price=price,
        disk_mb=disk,
        trim=params.trim,
        live=live_spec,
    )
    return {
        "specs": results,
        "recommendation": recommendation,
        "live": {"cpu": live_spec[0], "memorySize": live_spec[1], "measured": live_figures},
        "copy": copy_name,
        "trim": params.trim,
        "invocations": params.invocations,
        "warmup": params.warmup,
        "price_model": price.as_dict(),
        "ci_method": T_METHOD_TEXT,
        "timer_resolution_ms": TIMER_RESOLUTION_MS,
        "warnings": warnings(results, recommendation),
        "wall_s": round(time.monotonic() - started, 2),
    }


def warnings(specs: list[dict[str, Any]], recommendation: dict[str, Any] | None) -> list[str]:
    """What a reader must know before trusting the pick."""
    found = []
    if recommendation is not None and not recommendation["meaningful"]:
        found.append(
            f"Every spec measured within the timer's {TIMER_RESOLUTION_MS:g} ms resolution: "
            "the durations cannot rank the specs, so there is no meaningful pick. "
            "Evaluate with a payload that does more work."
        )
    if any(s["duration_ms"] is not None and s.get("ci") is None for s in specs):
        found.append(
            "Some specs kept fewer than two samples after trimming: they have no interval "
            "and cannot be told apart from any other spec. Run more invocations."
        )
    return found

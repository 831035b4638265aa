"""Concurrency mode: one instance of a custom-runtime copy, stepped through instance concurrency.

The copy gets reserved concurrency 1, so every request shares one instance;
at each step ``instanceConcurrency`` is set to the step's value and the same
number of closed-loop workers (asyncio + httpx, signed requests) keep it busy
for ``duration_s``. Throttles (429) show when the load outgrows the instance.
The recommendation is the highest concurrency whose p99 latency stays under
``rt_threshold_ms`` (with at most 1% errors), with its cost per 10,000 requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from service.evals.copies import add_http_trigger, disposable_copy, pin_one_instance
from service.evals.pricing import FREE_DISK_MB, PriceModel
from service.evals.schemas import EvalConcurrencyParams
from service.evals.stats import ORDER_METHOD_TEXT, quantile_interval
from service.jobs.contract import JobContext
from service.loadtest.plan import encode_body, percentile
from service.loadtest.signing import SigningKey, invoke_url, sign

MAX_ERROR_SHARE = 0.01
REQUEST_TIMEOUT_S = 60.0
CANCEL_POLL_S = 0.5


@dataclass
class Target:
    url: str
    method: str
    action: str
    headers: dict[str, str]


@dataclass
class StepLoad:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    throttles: int = 0
    error_types: dict[str, int] = field(default_factory=dict)


async def closed_loop(
    client: httpx.AsyncClient,
    target: Target,
    key: SigningKey,
    body: bytes,
    workers: int,
    duration_s: float,
    cancel_requested: Callable[[], Awaitable[bool]],
) -> tuple[StepLoad, float]:
    """``workers`` loops sending back to back for ``duration_s`` (or until a cancel is
    requested); returns the figures and the time they took."""
    load = StepLoad()
    deadline = time.monotonic() + duration_s
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            if await cancel_requested():
                stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CANCEL_POLL_S)

    async def worker() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            headers = sign(target.method, target.url, body, key, target.headers, target.action)
            began = time.perf_counter()
            try:
                response = await client.request(
                    target.method, target.url, content=body, headers=headers
                )
            except httpx.HTTPError as exc:
                kind = type(exc).__name__
                load.errors += 1
                load.error_types[kind] = load.error_types.get(kind, 0) + 1
                continue
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code == 429:
                load.throttles += 1
            elif response.status_code >= 400 or "x-fc-error-type" in response.headers:
                kind = response.headers.get("x-fc-error-type") or f"HTTP {response.status_code}"
                load.errors += 1
                load.error_types[kind] = load.error_types.get(kind, 0) + 1
            else:
                load.latencies_ms.append(elapsed)

    started = time.monotonic()
    watcher = asyncio.create_task(watch())
    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        stop.set()
        await watcher
    return load, time.monotonic() - started


def step_figures(concurrency: int, load: StepLoad, span_s: float) -> dict[str, Any]:
    hist: dict[float, int] = {}
    for ms in load.latencies_ms:
        key = round(ms, 1)
        hist[key] = hist.get(key, 0) + 1
    total = len(load.latencies_ms) + load.errors + load.throttles
    p50, p99 = percentile(hist, 0.5), percentile(hist, 0.99)
    return {
        "concurrency": concurrency,
        "requests": total,
        "p50_ms": p50,
        "p99_ms": p99,
        "p99_ci": quantile_interval(load.latencies_ms, 0.99),
        "rps": round(len(load.latencies_ms) / span_s, 2) if span_s > 0 else 0.0,
        "errors": load.errors,
        "throttles": load.throttles,
        "error_types": load.error_types,
    }


def cost_per_10k(
    price: PriceModel, cpu: float, memory_mb: int, disk_mb: int, rps: float
) -> float | None:
    """One busy instance serving ``rps``: its instance-seconds shared by its requests."""
    if rps <= 0:
        return None
    instance_cu_per_s = price.cu_per_invocation(cpu, memory_mb, 1000.0, disk_mb)
    instance_cu_per_s -= price.cu_per_10k_invocations / 10_000  # the per-call fee is added once
    per_request = instance_cu_per_s / rps + price.cu_per_10k_invocations / 10_000
    return per_request * 10_000 * price.price_per_cu


def recommend(
    steps: list[dict[str, Any]],
    threshold_ms: float,
    price: PriceModel,
    cpu: float,
    memory_mb: int,
    disk_mb: int,
    live_concurrency: int | None = None,
) -> dict[str, Any] | None:
    fitting = [
        s
        for s in steps
        if s["p99_ms"] is not None
        and s["p99_ms"] <= threshold_ms
        and s["errors"] <= MAX_ERROR_SHARE * max(1, s["requests"])
    ]
    if not fitting:
        return None
    best = max(fitting, key=lambda s: s["concurrency"])
    cost = cost_per_10k(price, cpu, memory_mb, disk_mb, best["rps"])
    live = next((s for s in steps if s["concurrency"] == live_concurrency), None)
    live_cost = cost_per_10k(price, cpu, memory_mb, disk_mb, live["rps"]) if live else None
    return {
        "instanceConcurrency": best["concurrency"],
        "cost_per_10k": cost,
        "currency": price.currency,
        "p99_ms": best["p99_ms"],
        "p99_ci": best.get("p99_ci"),
        "rps": best["rps"],
        "rt_threshold_ms": threshold_ms,
        "cpu": cpu,
        "memorySize": memory_mb,
        "reason": _reason(best, threshold_ms),
        "saving_vs_live_pct": (
            round((1 - cost / live_cost) * 100, 1) if cost is not None and live_cost else None
        ),
    }


def _reason(best: dict[str, Any], threshold_ms: float) -> str:
    ci = best.get("p99_ci")
    said = (
        f"instanceConcurrency {best['concurrency']} is the highest step whose p99 "
        f"({best['p99_ms']:g} ms"
    )
    if ci is None:
        return f"{said}) stays under {threshold_ms:g} ms"
    if ci["high"] <= threshold_ms:
        return f"{said}, 95% interval up to {ci['high']:g} ms) stays under {threshold_ms:g} ms"
    return (
        f"{said}) is under {threshold_ms:g} ms, but its 95% interval reaches "
        f"{ci['high']:g} ms: the margin is within the noise, a longer step would tell"
    )


async def run_concurrency_eval(ctx: JobContext, params: EvalConcurrencyParams) -> dict[str, Any]:
    price = PriceModel.from_settings(ctx.settings)
    creds = ctx.access.credentials
    key = SigningKey(creds.access_key_id, creds.access_key_secret, creds.security_token)
    body = encode_body(params.payload)
    levels = params.levels()
    started = time.monotonic()
    steps: list[dict[str, Any]] = []
    async with disposable_copy(ctx.gateway, ctx.access, ctx.function_name) as copy:
        live = copy.live
        cpu, memory = float(live.get("cpu") or 0), int(live.get("memorySize") or 0)
        disk = int(live.get("diskSize") or FREE_DISK_MB)
        await pin_one_instance(ctx.gateway, ctx.access, copy)
        if params.target == "http":
            base = await add_http_trigger(ctx.gateway, ctx.access, copy)
            target = Target(base.rstrip("/") + params.path, params.method, "HttpTrigger", {})
        else:
            target = Target(
                invoke_url(ctx.access.endpoint, copy.name),
                "POST",
                "InvokeFunction",
                {"content-type": "application/octet-stream", "x-fc-invocation-type": "Sync"},
            )
        limits = httpx.Limits(max_connections=max(levels) + 4, max_keepalive_connections=None)
        async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
            for index, level in enumerate(levels):
                await ctx.check_cancelled()
                await ctx.progress(
                    index / len(levels),
                    f"instanceConcurrency {level}",
                    live={"step": index, "steps": len(levels), "partial": list(steps)},
                )
                await ctx.gateway.update_function(
                    ctx.access, copy.name, {"instanceConcurrency": level}
                )
                if params.warmup_s:
                    await closed_loop(
                        client, target, key, body, level, params.warmup_s, ctx.cancel_requested
                    )
                await ctx.check_cancelled()
                load, span = await closed_loop(
                    client, target, key, body, level, params.duration_s, ctx.cancel_requested
                )
                steps.append(step_figures(level, load, span))
        copy_name = copy.name
    await ctx.progress(
        0.99, "done", live={"step": len(levels), "steps": len(levels), "partial": list(steps)}
    )
    live_concurrency = live.get("instanceConcurrency")
    return {
        "steps": steps,
        "recommendation": recommend(
            steps, params.rt_threshold_ms, price, cpu, memory, disk, live_concurrency
        ),
        "target": params.target,
        "duration_s": params.duration_s,
        "rt_threshold_ms": params.rt_threshold_ms,
        "copy": copy_name,
        "live": {
            "cpu": cpu,
            "memorySize": memory,
            "instanceConcurrency": live.get("instanceConcurrency"),
        },
        "price_model": price.as_dict(),
        "ci_method": ORDER_METHOD_TEXT,
        "wall_s": round(time.monotonic() - started, 2),
    }

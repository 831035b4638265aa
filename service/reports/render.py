"""HTML reports of stress and eval jobs: one Jinja2 environment, self-contained pages.

Autoescape is on and undefined names raise (StrictUndefined), so a template
typo fails loudly in tests instead of rendering an empty cell. Charts are
inline SVG from :mod:`service.reports.charts`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from service.reports.charts import Series, bar_chart, line_chart

ENV = Environment(
    loader=PackageLoader("service.reports", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _ms(value: float | None) -> str:
    if value is None:
        return "\u2013"  # en dash
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _money(value: float | None) -> str:
    if value is None:
        return "\u2013"  # en dash
    return f"{value:.4g}"


ENV.globals.update(ms=_ms, money=_money)


def _render(template: str, function: str, **context: Any) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ENV.get_template(template).render(function=function, generated_at=stamp, **context)


def stress_charts(result: dict[str, Any]) -> tuple[Markup, Markup]:
    timeline = result["timeline"]
    rps = [Series("requests/s", [(p["t"], p["rps"]) for p in timeline])]
    if result.get("target_rps") is not None:
        rps.append(Series("target", [(p["t"], result["target_rps"]) for p in timeline]))
    if any(p["failures"] for p in timeline):
        rps.append(Series("failures/s", [(p["t"], p["failures"]) for p in timeline]))
    latency = [
        Series("p50 ms", [(p["t"], p["p50_ms"]) for p in timeline]),
        Series("p99 ms", [(p["t"], p["p99_ms"]) for p in timeline]),
    ]
    return (
        line_chart("Requests per second", rps, "seconds since start", "req/s"),
        line_chart("Latency over time", latency, "seconds since start", "ms"),
    )


def stress_report(function: str, params: dict[str, Any], result: dict[str, Any]) -> str:
    rps_chart, latency_chart = stress_charts(result)
    if params.get("rps"):
        mode = f"open loop at {params['rps']:g} req/s ({result.get('users', '?')} users)"
    else:
        mode = f"closed loop, {params.get('users')} users"
    return _render(
        "stress.html",
        function,
        params=params,
        result=result,
        mode=mode,
        rps_chart=rps_chart,
        latency_chart=latency_chart,
    )


def _spec_label(spec: dict[str, Any]) -> str:
    return f"{spec['cpu']:g} vCPU/{spec['memorySize']} MB"


def eval_spec_report(function: str, params: dict[str, Any], result: dict[str, Any]) -> str:
    specs = result["specs"]
    rec = result["recommendation"]
    labels = [_spec_label(s) for s in specs]
    chosen = next(
        (
            i
            for i, s in enumerate(specs)
            if rec and (s["cpu"], s["memorySize"]) == (rec["cpu"], rec["memorySize"])
        ),
        None,
    )
    costs = [
        s["cost_per_invocation"] * 1_000_000 if s["cost_per_invocation"] is not None else None
        for s in specs
    ]
    return _render(
        "eval_spec.html",
        function,
        params=params,
        result=result,
        rec=rec,
        duration_chart=bar_chart(
            "Billed duration per spec (trimmed mean)",
            labels,
            [s["duration_ms"] for s in specs],
            "ms",
            highlight=chosen,
        ),
        cost_chart=bar_chart(
            "Cost per million invocations", labels, costs, "cost", highlight=chosen
        ),
    )


def eval_concurrency_report(function: str, params: dict[str, Any], result: dict[str, Any]) -> str:
    steps = result["steps"]
    rec = result["recommendation"]
    marker = rec["instanceConcurrency"] if rec else None
    latency = line_chart(
        "Latency by instance concurrency",
        [
            Series("p50 ms", [(s["concurrency"], s["p50_ms"]) for s in steps]),
            Series("p99 ms", [(s["concurrency"], s["p99_ms"]) for s in steps]),
        ],
        "instanceConcurrency",
        "ms",
        marker_x=marker,
        marker_label="recommended",
        threshold=result["rt_threshold_ms"],
        threshold_label=f"threshold {result['rt_threshold_ms']:g} ms",
    )
    throughput = line_chart(
        "Throughput of one instance",
        [Series("req/s", [(s["concurrency"], s["rps"]) for s in steps])],
        "instanceConcurrency",
        "req/s",
        marker_x=marker,
        marker_label="recommended",
    )
    return _render(
        "eval_concurrency.html",
        function,
        params=params,
        result=result,
        rec=rec,
        latency_chart=latency,
        throughput_chart=throughput,
    )

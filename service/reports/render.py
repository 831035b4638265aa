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

from service.evals.recommend import spec_name
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
        line_chart("Latency over time", latency, "seconds since start", "ms", log_scale=True),
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


def _bounds(interval: Any, scale: float = 1.0) -> tuple[float, float] | None:
    """An interval as (low, high), None when absent (results stored before intervals)."""
    if not isinstance(interval, dict) or interval.get("low") is None:
        return None
    return (float(interval["low"]) * scale, float(interval["high"]) * scale)


def _currency(result: dict[str, Any]) -> str:
    # Results stored before the currency was recorded were priced in the default, USD.
    return str((result.get("price_model") or {}).get("currency") or "USD")


def _spec_recommendation(rec: dict[str, Any] | None) -> dict[str, Any] | None:
    """The recommendation with every field the template reads (old results lack some)."""
    if rec is None:
        return None
    defaults = {
        "ci": None,
        "meaningful": True,
        "reason": None,
        "equivalent_to": None,
        "separation": None,
        "saving_vs_live_pct": None,
    }
    return {**defaults, **rec}


def eval_spec_report(function: str, params: dict[str, Any], result: dict[str, Any]) -> str:
    specs = result["specs"]
    rec = _spec_recommendation(result["recommendation"])
    labels = [spec_name(s) for s in specs]
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
    currency = _currency(result)
    live = (result["live"]["cpu"], result["live"]["memorySize"])
    rows = [
        {
            **s,
            "label": spec_name(s),
            "interval": _bounds(s.get("ci")),
            "cost_interval": _bounds(s.get("cost_ci"), 1_000_000),
            "live": (s["cpu"], s["memorySize"]) == live,
            "chosen": i == chosen,
        }
        for i, s in enumerate(specs)
    ]
    has_intervals = any(row["interval"] for row in rows)
    return _render(
        "eval_spec.html",
        function,
        params=params,
        result=result,
        rec=rec,
        rows=rows,
        currency=currency,
        has_intervals=has_intervals,
        warnings=result.get("warnings") or [],
        ci_method=result.get("ci_method"),
        duration_chart=bar_chart(
            "Billed duration per spec (trimmed mean)",
            labels,
            [s["duration_ms"] for s in specs],
            "ms",
            highlight=chosen,
            errors=[row["interval"] for row in rows] if has_intervals else None,
        ),
        cost_chart=bar_chart(
            f"Cost per million invocations ({currency})",
            labels,
            costs,
            f"{currency} / 1M invocations",
            highlight=chosen,
            errors=[row["cost_interval"] for row in rows] if has_intervals else None,
        ),
    )


def eval_concurrency_report(function: str, params: dict[str, Any], result: dict[str, Any]) -> str:
    steps = result["steps"]
    rec = result["recommendation"]
    if rec is not None:
        rec = {"p99_ci": None, "reason": None, "saving_vs_live_pct": None, **rec}
    marker = rec["instanceConcurrency"] if rec else None
    p99_errors = [_bounds(s.get("p99_ci")) for s in steps]
    latency = line_chart(
        "Latency by instance concurrency",
        [
            Series("p50 ms", [(s["concurrency"], s["p50_ms"]) for s in steps]),
            Series(
                "p99 ms",
                [(s["concurrency"], s["p99_ms"]) for s in steps],
                errors=p99_errors if any(p99_errors) else None,
            ),
        ],
        "instanceConcurrency",
        "ms",
        marker_x=marker,
        marker_label="recommended",
        threshold=result["rt_threshold_ms"],
        threshold_label=f"threshold {result['rt_threshold_ms']:g} ms",
        log_scale=True,
    )
    throughput = line_chart(
        "Throughput of one instance",
        [Series("req/s", [(s["concurrency"], s["rps"]) for s in steps])],
        "instanceConcurrency",
        "req/s",
        marker_x=marker,
        marker_label="recommended",
    )
    rows = [
        {**s, "interval": interval, "capped": bool((s.get("p99_ci") or {}).get("capped"))}
        for s, interval in zip(steps, p99_errors, strict=True)
    ]
    return _render(
        "eval_concurrency.html",
        function,
        params=params,
        result=result,
        rec=rec,
        rows=rows,
        currency=_currency(result),
        has_intervals=any(p99_errors),
        ci_method=result.get("ci_method"),
        latency_chart=latency,
        throughput_chart=throughput,
    )

"""The headline figures a finished job's notification carries (job.finished).

Read defensively from the stored result: results stored by older versions, or by an
eval that does not report a saving, simply leave a figure out.
"""

from __future__ import annotations

from typing import Any


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def stress_headline(result: dict[str, Any]) -> dict[str, Any]:
    head = result.get("headline")
    failures = result.get("failures")
    total = failures.get("total") if isinstance(failures, dict) else None
    latency = result.get("latency_ms")
    latency = latency if isinstance(latency, dict) else {}
    if isinstance(head, dict):
        return {
            "requests": result.get("requests"),
            "rps": _number(head.get("rps")),
            "p99_ms": _number(head.get("p99_ms")),
            "p99_phase": head.get("phase"),
            "failures": total,
        }
    return {  # stored before phases: the whole run's figures
        "requests": result.get("requests"),
        "rps": _number(result.get("achieved_rps")),
        "p99_ms": _number(latency.get("p99")),
        "p99_phase": "overall",
        "failures": total,
    }


def eval_headline(result: dict[str, Any]) -> dict[str, Any]:
    recommendation = result.get("recommendation")
    head: dict[str, Any] = {"recommendation": None}
    if isinstance(recommendation, dict):
        head["recommendation"] = {
            k: recommendation[k]
            for k in ("cpu", "memorySize", "concurrency", "duration_ms", "cost_per_1m")
            if k in recommendation
        }
    saving = _number(result.get("saving_vs_live_pct"))
    if saving is None and isinstance(recommendation, dict):
        saving = _number(recommendation.get("saving_vs_live_pct"))
    if saving is not None:
        head["saving_vs_live_pct"] = saving
    return head


def headline_of(kind: str, result: dict[str, Any] | None) -> dict[str, Any] | None:
    if not result:
        return None
    if kind == "stress":
        return stress_headline(result)
    if kind.startswith("eval-"):
        return eval_headline(result)
    return None

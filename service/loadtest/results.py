"""Turning the merged Locust-side buckets into the stress result JSON (GET /v1/jobs/{id})."""

from __future__ import annotations

from typing import Any

from service.loadtest.plan import percentile


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summarize(merged: dict[str, Any], target_rps: float | None) -> dict[str, Any]:
    seconds: dict[int, dict[str, Any]] = merged["seconds"]
    hist: dict[float, int] = {}
    errors: dict[str, int] = {}
    for bucket in seconds.values():
        for k, v in bucket["hist"].items():
            hist[k] = hist.get(k, 0) + v
        for k, v in bucket["errors"].items():
            errors[k] = errors.get(k, 0) + v
    requests = sum(b["count"] for b in seconds.values())
    failures = sum(b["failures"] for b in seconds.values())
    span = (merged["last"] - merged["first"]) if merged["first"] is not None else 0.0
    start = min(seconds) if seconds else 0
    timeline = [
        {
            "t": t - start,
            "rps": b["count"],
            "p50_ms": _round(percentile(b["hist"], 0.50)),
            "p99_ms": _round(percentile(b["hist"], 0.99)),
            "failures": b["failures"],
        }
        for t, b in sorted(seconds.items())
    ]
    result: dict[str, Any] = {
        "requests": requests,
        "failures": {"total": failures, "by_type": dict(sorted(errors.items()))},
        "achieved_rps": round(requests / span, 2) if span > 0 else 0.0,
        "duration_s": round(span, 3),
        "latency_ms": {
            "p50": _round(percentile(hist, 0.50)),
            "p90": _round(percentile(hist, 0.90)),
            "p99": _round(percentile(hist, 0.99)),
            "p999": _round(percentile(hist, 0.999)),
            "max": _round(max(hist) if hist else None),
        },
        "timeline": timeline,
    }
    if target_rps is not None:
        result["target_rps"] = target_rps
    return result

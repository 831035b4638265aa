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


def window(
    requested_s: int,
    measured_s: float,
    *,
    users: int,
    spawn_rate: float,
    per_user_rps: float | None,
    stop_timeout_s: float,
) -> dict[str, Any]:
    """The requested duration and the measured window side by side, and why they differ.

    ``-t`` is Locust's run time, counted from when it starts spawning users; the window
    the figures cover runs from the first request sent to the last answer received.
    """
    gap = measured_s - requested_s
    interval = 1 / per_user_rps if per_user_rps else None
    if abs(gap) < 0.05:
        note = f"The measured window matches the requested {requested_s} s."
    elif gap < 0:
        spread = (
            f"; open-loop users start spread over one {interval:.3g} s interval and stop "
            "waiting for their next slot when the run time ends"
            if interval is not None
            else ""
        )
        note = (
            f"The measured window is {-gap:.3g} s shorter than the requested {requested_s} s: "
            "the run time counts from Locust's start, before the first request is sent, and "
            f"the window ends at the last answer{spread}."
        )
    else:
        note = (
            f"The measured window is {gap:.3g} s longer than the requested {requested_s} s: "
            f"requests in flight when the run time ended were given up to {stop_timeout_s:g} s "
            "to finish."
        )
    ramp = (users - 1) / spawn_rate
    if ramp >= 0.5:
        note += (
            f" Ramp-up: {users} users were started at {spawn_rate:g}/s, so the first "
            f"~{ramp:.3g} s ran below full load."
        )
    note += (
        " The overall figures count every request; `phases` separates the warm-up from the "
        "steady state, which `headline` reports."
    )
    return {
        "requested_duration_s": requested_s,
        "measured_window_s": round(measured_s, 3),
        "window_note": note,
    }

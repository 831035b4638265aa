"""Warm-up and steady state of a stress run, and the cold starts behind the warm-up.

**Warm-up** is every second (of the per-second buckets, by when requests finished)
before the first second in which all of these hold:

- the first, partial second of the run is over (connections are being opened);
- ramp-up is over: Locust has started every user (``(users - 1) / spawn_rate`` s
  after the first request);
- instances have settled: the last instance that first answered during the run
  (a cold start) did so in an earlier second.

Warm-up never takes more than half of the measured window, so that a run whose
instances keep starting still has a steady state to report (``phases_note``
says so). **Steady** is the rest; **overall** is every request.
"""

from __future__ import annotations

import math
from typing import Any

from service.loadtest.plan import percentile

SOURCE_LISTED = (
    "x-fc-instance-id response headers, less the instances ListInstances showed before the run"
)
SOURCE_UNLISTED = (
    "x-fc-instance-id response headers (the instances running before the run could not be "
    "listed, so each instance seen counts as started)"
)
SOURCE_NONE = "unavailable: no response carried an x-fc-instance-id header"


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _phase(
    buckets: list[dict[str, Any]], start: float, end: float, origin: float
) -> dict[str, Any]:
    hist: dict[float, int] = {}
    for bucket in buckets:
        for k, v in bucket["hist"].items():
            hist[k] = hist.get(k, 0) + v
    count = sum(b["count"] for b in buckets)
    span = max(0.0, end - start)
    return {
        "from_s": round(start - origin, 3),
        "to_s": round(end - origin, 3),
        "requests": count,
        "failures": sum(b["failures"] for b in buckets),
        "rps": round(count / span, 2) if span > 0 else 0.0,
        "p50_ms": _r(percentile(hist, 0.50)),
        "p90_ms": _r(percentile(hist, 0.90)),
        "p99_ms": _r(percentile(hist, 0.99)),
        "max_ms": _r(max(hist) if hist else None),
    }


def cold_starts(
    merged: dict[str, Any], baseline: set[str] | None
) -> tuple[int | None, str, list[float]]:
    """How many instances started during the run, where that comes from, and when each
    first answered (epoch seconds)."""
    seen: dict[str, float] = merged.get("instances") or {}
    if not seen:
        return None, SOURCE_NONE, []
    if baseline is None:
        return len(seen), SOURCE_UNLISTED, sorted(seen.values())
    started = sorted(t for i, t in seen.items() if i not in baseline)
    return len(started), SOURCE_LISTED, started


def phases(merged: dict[str, Any], *, ramp_s: float, baseline: set[str] | None) -> dict[str, Any]:
    """`phases`, `headline`, `cold_starts`, `cold_starts_source` and `phases_note` of a
    stress result."""
    count, source, starts = cold_starts(merged, baseline)
    seconds: dict[int, dict[str, Any]] = merged["seconds"]
    first, last = merged["first"], merged["last"]
    out: dict[str, Any] = {"cold_starts": count, "cold_starts_source": source}
    if first is None or not seconds:
        return out
    boundary = max(math.floor(first) + 1, math.ceil(first + ramp_s))
    if starts:
        boundary = max(boundary, math.floor(starts[-1]) + 1)
    cap = max(math.floor(first) + 1, math.floor(first + (last - first) / 2))
    note = None
    if boundary > cap:
        boundary = cap
        note = (
            "Instances kept starting (or users kept being spawned) past half of the run: "
            "the warm-up is cut at half the window, so the steady state includes some."
        )
    end_warm = min(float(boundary), last)
    ordered = sorted(seconds.items())
    warm = [b for t, b in ordered if t < boundary]
    steady = [b for t, b in ordered if t >= boundary]
    out["phases"] = {
        "warm_up": _phase(warm, first, end_warm, first),
        "steady": _phase(steady, end_warm, last, first),
        "overall": _phase([b for _, b in ordered], first, last, first),
    }
    chosen = "steady" if out["phases"]["steady"]["requests"] else "overall"
    figures = out["phases"][chosen]
    out["headline"] = {
        "phase": chosen,
        **{k: figures[k] for k in ("requests", "failures", "rps", "p50_ms", "p99_ms")},
    }
    if note:
        out["phases_note"] = note
    return out

"""A running stress job's live figures, read from the files its Locust processes rewrite
every second (``live-<pid>.json``, see locust_users) and merged across processes.

"The last interval" is the last complete second: the second still running has only
part of its requests, which would make the current rate dip at every read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from service.loadtest.plan import percentile


def read_parts(workdir: Path) -> list[dict[str, Any]]:
    parts = []
    for path in sorted(workdir.glob("live-*.json")):
        try:
            parts.append(json.loads(path.read_text()))
        except (OSError, ValueError):  # replaced while read: the next read has it
            continue
    return parts


def live_figures(parts: list[dict[str, Any]], now: float) -> dict[str, Any] | None:
    """The `live` of a stress job (StressLive), or None before any process reported."""
    if not parts:
        return None
    requests = sum(int(p["requests"]) for p in parts)
    failures = sum(int(p["failures"]) for p in parts)
    firsts = [p["first"] for p in parts if p.get("first") is not None]
    first = min(firsts) if firsts else None
    last_complete = int(now) - 1
    hist: dict[float, int] = {}
    count = 0
    for part in parts:
        bucket = part["seconds"].get(str(last_complete))
        if bucket is None:
            continue
        count += int(bucket["count"])
        for k, v in bucket["hist"].items():
            hist[float(k)] = hist.get(float(k), 0) + v
    elapsed = max(0.0, now - first) if first is not None else 0.0
    p50, p99 = percentile(hist, 0.50), percentile(hist, 0.99)
    return {
        "requests": requests,
        "failures": failures,
        "current_rps": float(count),
        "average_rps": round(requests / elapsed, 2) if elapsed >= 1 else float(requests),
        "p50_ms": None if p50 is None else round(p50, 2),
        "p99_ms": None if p99 is None else round(p99, 2),
        "users": sum(int(p.get("users", 0)) for p in parts),
        "elapsed_s": round(elapsed, 1),
    }

"""What the asyncio side hands to a Locust child (the plan), and how its figures are read back.

Shared by both processes, so it imports neither locust nor asyncio machinery.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from pydantic import BaseModel

KEY_ENV = "FCPLANE_STRESS_SIGNING_KEY"  # JSON [ak, secret, token]; never written to disk


class PlanPayload(BaseModel):
    body_b64: str
    weight: float = 1.0

    def encoded(self) -> bytes:
        return base64.b64decode(self.body_b64)


class Plan(BaseModel):
    url: str  # full URL of every request (InvokeFunction, or trigger URL + path)
    method: str
    action: str  # x-acs-action when signing
    name: str  # the request name in Locust's report
    headers: dict[str, str]
    payloads: list[PlanPayload]
    sign: bool
    per_user_rps: float | None  # open loop: each user's constant throughput
    timeout_s: float


def latency_bucket(ms: float) -> float:
    """Round a latency so histograms stay small: 0.1 ms below 100 ms, then 3 digits."""
    if ms < 100:
        return round(ms, 1)
    digits = 2 - math.floor(math.log10(ms))
    return float(round(ms, digits))


def percentile(hist: dict[float, int], q: float) -> float | None:
    """The q-quantile (0..1) of a latency histogram, nearest-rank."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return max(hist)


def merge_timelines(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge the per-process files written by the Locust side into one set of buckets."""
    seconds: dict[int, dict[str, Any]] = {}
    first = min((p["first"] for p in parts), default=None)
    last = max((p["last"] for p in parts), default=None)
    instances: dict[str, float] = {}
    for part in parts:
        for instance, seen in part.get("instances", {}).items():
            instances[instance] = min(seen, instances.get(instance, seen))
        for t, bucket in part["seconds"].items():
            into = seconds.setdefault(int(t), {"count": 0, "failures": 0, "hist": {}, "errors": {}})
            into["count"] += bucket["count"]
            into["failures"] += bucket["failures"]
            for k, v in bucket["hist"].items():
                into["hist"][float(k)] = into["hist"].get(float(k), 0) + v
            for k, v in bucket["errors"].items():
                into["errors"][k] = into["errors"].get(k, 0) + v
    return {"first": first, "last": last, "seconds": seconds, "instances": instances}


def encode_body(value: Any) -> bytes:
    """A payload as sent: strings as UTF-8, anything else as compact JSON."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

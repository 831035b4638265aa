"""Per-function metrics and per-request function logs for the admin API."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from service.emulator.metric_series import MetricSeries

_DURATION_WINDOW = 10_000


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


@dataclass
class FunctionMetrics:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    cold_starts: int = 0
    durations_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_DURATION_WINDOW))

    def to_dict(self) -> dict[str, Any]:
        values = sorted(self.durations_ms)
        return {
            "invocations": self.invocations,
            "errors": self.errors,
            "throttles": self.throttles,
            "coldStarts": self.cold_starts,
            "durationMs": {
                "count": len(values),
                "p50": percentile(values, 50),
                "p90": percentile(values, 90),
                "p99": percentile(values, 99),
                "max": values[-1] if values else 0.0,
            },
        }


class Metrics:
    def __init__(self) -> None:
        self._by_function: dict[str, FunctionMetrics] = {}
        self._lock = threading.Lock()
        # The same invocations per second and minute: what the CloudMonitor API serves.
        self.series = MetricSeries()

    def _get(self, name: str) -> FunctionMetrics:
        found = self._by_function.get(name)
        if found is None:
            found = self._by_function[name] = FunctionMetrics()
        return found

    def record(
        self,
        name: str,
        *,
        duration_ms: float,
        error: bool,
        cold_start: bool,
        qualifier: str = "LATEST",
        instances: int = 0,
    ) -> None:
        with self._lock:
            m = self._get(name)
            m.invocations += 1
            m.errors += int(error)
            m.cold_starts += int(cold_start)
            m.durations_ms.append(duration_ms)
        self.series.record(
            name, qualifier, now(), duration_ms=duration_ms, error=error, instances=instances
        )

    def record_throttle(self, name: str, qualifier: str = "LATEST") -> None:
        with self._lock:
            m = self._get(name)
            m.invocations += 1
            m.throttles += 1
        self.series.record_throttle(name, qualifier, now())

    def snapshot(self, name: str | None = None) -> dict[str, Any]:
        with self._lock:
            items = self._by_function.items()
            return {k: v.to_dict() for k, v in items if name is None or k == name}

    def clear(self) -> None:
        with self._lock:
            self._by_function.clear()
        self.series.clear()


@dataclass(frozen=True)
class LogEntry:
    request_id: str
    function_name: str
    qualifier: str
    timestamp: float
    status: int
    error_type: str | None
    duration_ms: float
    instance_id: str
    log: str
    trigger_name: str | None = None  # the HTTP or timer trigger that caused the invocation

    def to_dict(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "functionName": self.function_name,
            "qualifier": self.qualifier,
            "timestamp": self.timestamp,
            "status": self.status,
            "errorType": self.error_type,
            "durationMs": self.duration_ms,
            "instanceId": self.instance_id,
            "log": self.log,
            "triggerName": self.trigger_name,
        }


class FunctionLogs:
    """The newest ``capacity`` invocations' logs, searchable by function or request id."""

    def __init__(self, capacity: int = 5000) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def query(
        self, function_name: str | None, request_id: str | None, limit: int
    ) -> list[LogEntry]:
        with self._lock:
            entries = list(self._entries)
        found = [
            e
            for e in reversed(entries)
            if (function_name is None or e.function_name == function_name)
            and (request_id is None or e.request_id == request_id)
        ]
        return found[:limit]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def now() -> float:
    return time.time()

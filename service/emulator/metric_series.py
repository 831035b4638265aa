"""Per-function time series of invocations, as CloudMonitor keeps them for FC.

The admin API's :class:`~service.emulator.observability.Metrics` answers "how many so
far"; charts need "how many in each minute". Every invocation lands in a per-second
bucket (kept for an hour) and a per-minute bucket (kept for a day) of its function
and qualifier. A query for ``period`` seconds reads whichever resolution divides it
and folds the buckets into ``period``-aligned points, as DescribeMetricList does.

Durations are sampled (reservoir) so a busy bucket's p99 costs bounded memory.
Concurrent instances are the most instances the function had when an invocation of
that bucket ended: an idle minute shows no point, as CloudMonitor shows none.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

# The module, not the name: observability imports this module while it loads.
from service.emulator import observability

SECOND_RETENTION_S = 3600
MINUTE_RETENTION_S = 24 * 3600
_SECOND_SAMPLES = 100  # durations kept per one-second bucket
_MINUTE_SAMPLES = 2000  # durations kept per one-minute bucket


@dataclass
class Bucket:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    instances: int = 0  # the most instances seen at once
    duration_sum_ms: float = 0.0
    duration_count: int = 0
    duration_max_ms: float = 0.0
    samples: list[float] = field(default_factory=list)

    def add(self, duration_ms: float, error: bool, instances: int, capacity: int) -> None:
        self.invocations += 1
        self.errors += int(error)
        self.instances = max(self.instances, instances)
        self.duration_sum_ms += duration_ms
        self.duration_count += 1
        self.duration_max_ms = max(self.duration_max_ms, duration_ms)
        _sample(self.samples, duration_ms, self.duration_count, capacity)

    def merge(self, other: Bucket, capacity: int) -> None:
        self.samples = _merged_samples(
            self.samples, self.duration_count, other.samples, other.duration_count, capacity
        )
        self.invocations += other.invocations
        self.errors += other.errors
        self.throttles += other.throttles
        self.instances = max(self.instances, other.instances)
        self.duration_sum_ms += other.duration_sum_ms
        self.duration_count += other.duration_count
        self.duration_max_ms = max(self.duration_max_ms, other.duration_max_ms)

    @property
    def duration_avg_ms(self) -> float | None:
        return self.duration_sum_ms / self.duration_count if self.duration_count else None

    @property
    def duration_p99_ms(self) -> float | None:
        return observability.percentile(sorted(self.samples), 99) if self.samples else None


def _sample(samples: list[float], value: float, seen: int, capacity: int) -> None:
    """Reservoir sampling: every value seen so far is kept with equal probability."""
    if len(samples) < capacity:
        samples.append(value)
        return
    slot = random.randrange(seen)
    if slot < capacity:
        samples[slot] = value


def _merged_samples(
    mine: list[float], my_count: int, theirs: list[float], their_count: int, capacity: int
) -> list[float]:
    """Two buckets' samples as one, each side weighted by how many values it stands for."""
    if len(mine) + len(theirs) <= capacity:
        return mine + theirs
    keep_mine = round(capacity * my_count / max(1, my_count + their_count))
    keep_theirs = capacity - keep_mine
    return random.sample(mine, min(keep_mine, len(mine))) + random.sample(
        theirs, min(keep_theirs, len(theirs))
    )


class _Resolution:
    """Buckets of one width (seconds) for every (function, qualifier)."""

    def __init__(self, width: int, retention_s: int, capacity: int) -> None:
        self.width = width
        self.retention_s = retention_s
        self.capacity = capacity
        self.buckets: dict[tuple[str, str], dict[int, Bucket]] = {}

    def bucket(self, function: str, qualifier: str, at: float) -> Bucket:
        start = int(at) // self.width * self.width
        series = self.buckets.setdefault((function, qualifier), {})
        found = series.get(start)
        if found is None:
            found = series[start] = Bucket()
            horizon = start - self.retention_s
            for old in [t for t in series if t < horizon] if len(series) % 64 == 0 else []:
                del series[old]
        return found


@dataclass(frozen=True)
class Point:
    timestamp: int  # start of the period, epoch seconds
    bucket: Bucket


class MetricSeries:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds = _Resolution(1, SECOND_RETENTION_S, _SECOND_SAMPLES)
        self._minutes = _Resolution(60, MINUTE_RETENTION_S, _MINUTE_SAMPLES)

    def record(
        self,
        function: str,
        qualifier: str,
        at: float,
        *,
        duration_ms: float,
        error: bool,
        instances: int,
    ) -> None:
        with self._lock:
            for resolution in (self._seconds, self._minutes):
                resolution.bucket(function, qualifier, at).add(
                    duration_ms, error, instances, resolution.capacity
                )

    def record_throttle(self, function: str, qualifier: str, at: float) -> None:
        # A throttled request counts as an invocation (FC counts it in TotalInvocations).
        with self._lock:
            for resolution in (self._seconds, self._minutes):
                bucket = resolution.bucket(function, qualifier, at)
                bucket.invocations += 1
                bucket.throttles += 1

    def query(
        self, function: str, qualifier: str | None, start: float, end: float, period: int
    ) -> list[Point]:
        """Points for ``period``-aligned periods in [start, end): only those with data.

        ``qualifier`` None: every qualifier of the function together.
        """
        resolution = self._minutes if period % 60 == 0 else self._seconds
        with self._lock:
            chosen = [
                series
                for (name, q), series in resolution.buckets.items()
                if name == function and qualifier in (None, q)
            ]
            folded: dict[int, Bucket] = {}
            for series in chosen:
                self._fold(folded, series.items(), start, end, period, resolution.capacity)
        return [Point(t, folded[t]) for t in sorted(folded)]

    @staticmethod
    def _fold(
        into: dict[int, Bucket],
        buckets: Iterable[tuple[int, Bucket]],
        start: float,
        end: float,
        period: int,
        capacity: int,
    ) -> None:
        for t, bucket in buckets:
            if start <= t < end:
                slot = t // period * period
                into.setdefault(slot, Bucket()).merge(bucket, capacity)

    def clear(self) -> None:
        with self._lock:
            self._seconds.buckets.clear()
            self._minutes.buckets.clear()

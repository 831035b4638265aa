"""The emulator's per-second and per-minute metric buckets, folded into periods."""

from __future__ import annotations

from service.emulator.metric_series import SECOND_RETENTION_S, MetricSeries

T0 = 1_800_000_000  # a whole minute (divisible by 60 and 3600)


def test_invocations_fold_into_aligned_periods() -> None:
    series = MetricSeries()
    for offset, error in ((1, False), (2, True), (59, False), (61, False)):
        series.record("f", "LATEST", T0 + offset, duration_ms=10.0 * offset, error=error,
                      instances=offset % 3 + 1)  # fmt: skip
    series.record_throttle("f", "LATEST", T0 + 62)
    minutes = series.query("f", None, T0, T0 + 120, 60)
    assert [p.timestamp for p in minutes] == [T0, T0 + 60]
    first, second = (p.bucket for p in minutes)
    assert (first.invocations, first.errors, first.throttles) == (3, 1, 0)
    assert (second.invocations, second.errors, second.throttles) == (2, 0, 1)
    assert first.duration_avg_ms == (10 + 20 + 590) / 3
    assert first.duration_p99_ms == 590
    assert first.instances == 3  # the most at once
    # Per 30 s from the one-second buckets: the 59th second is in the second half.
    halves = series.query("f", None, T0, T0 + 60, 30)
    assert [(p.timestamp, p.bucket.invocations) for p in halves] == [(T0, 2), (T0 + 30, 1)]
    # The range is [start, end): a bucket at `end` is out.
    assert series.query("f", None, T0, T0 + 61, 1)[-1].timestamp == T0 + 59


def test_qualifiers_and_functions_are_kept_apart() -> None:
    series = MetricSeries()
    series.record("f", "LATEST", T0, duration_ms=1, error=False, instances=1)
    series.record("f", "prod", T0, duration_ms=3, error=False, instances=1)
    series.record("g", "LATEST", T0, duration_ms=5, error=False, instances=1)
    both = series.query("f", None, T0, T0 + 60, 60)[0].bucket
    assert (both.invocations, both.duration_avg_ms) == (2, 2.0)
    prod = series.query("f", "prod", T0, T0 + 60, 60)[0].bucket
    assert (prod.invocations, prod.duration_avg_ms) == (1, 3.0)
    assert series.query("f", "v1", T0, T0 + 60, 60) == []
    series.clear()
    assert series.query("f", None, T0, T0 + 60, 60) == []


def test_samples_and_seconds_are_bounded() -> None:
    series = MetricSeries()
    for i in range(5000):
        series.record("busy", "LATEST", T0 + 0.5, duration_ms=float(i), error=False, instances=1)
    minute = series.query("busy", None, T0, T0 + 60, 60)[0].bucket
    assert minute.invocations == 5000
    assert minute.duration_max_ms == 4999
    assert len(minute.samples) == 2000  # a reservoir, not every duration
    assert minute.duration_p99_ms is not None
    assert minute.duration_p99_ms > 4000  # the sample still sees the slow tail
    # One-second buckets older than an hour are dropped as new ones come.
    for second in range(SECOND_RETENTION_S + 200):
        series.record("old", "LATEST", T0 + second, duration_ms=1, error=False, instances=1)
    kept = series.query("old", None, T0, T0 + SECOND_RETENTION_S + 200, 1)
    assert len(kept) < SECOND_RETENTION_S + 100
    assert kept[-1].timestamp == T0 + SECOND_RETENTION_S + 199
    # Per minute, all of them are still there.
    per_minute = series.query("old", None, T0, T0 + SECOND_RETENTION_S + 200, 60)
    assert sum(p.bucket.invocations for p in per_minute) == SECOND_RETENTION_S + 200

"""A managed function's metrics over a time range, read from CloudMonitor.

Each series fcplane shows is one or more FC metrics of CloudMonitor's ``acs_fc``
namespace (added up period by period); with a qualifier, the ``FunctionQualifier*``
variants are read instead. Those names and what they mean are in docs/metrics.md.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.functions.repository import FunctionRepository
from service.functions.service import existing
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import InvalidInput
from service.models.function import FunctionRef
from service.monitoring.gateway import CloudMonitorGateway, MetricQuery
from service.monitoring.schemas import FunctionMetricsOut, MetricSeriesOut, Unit

DEFAULT_PERIOD = 60
DEFAULT_RANGE = timedelta(hours=1)
MAX_POINTS = 1440
RETENTION = timedelta(days=31)  # CloudMonitor keeps FC metrics this long
# CloudMonitor aggregates FC metrics per minute; the emulator also per second.
CLOUD_PERIODS = (60, 300, 900, 3600)
EMULATOR_PERIODS = (1, 5, 10, 15, 30, *CLOUD_PERIODS)


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    unit: Unit
    description: str
    parts: tuple[str, ...]  # CloudMonitor metric names without the Function/FunctionQualifier

    @property
    def is_count(self) -> bool:
        return self.unit is Unit.COUNT


SERIES = (
    SeriesSpec(
        "invocations", Unit.COUNT, "Invocations, throttled ones included.", ("TotalInvocations",)
    ),
    SeriesSpec(
        "errors",
        Unit.COUNT,
        "Invocations that failed: the function's own errors (it raised, timed out, ran out "
        "of memory) and FC's server errors.",
        ("FunctionErrors", "ServerErrors"),
    ),
    SeriesSpec(
        "throttles",
        Unit.COUNT,
        "Requests refused for concurrency or resource limits.",
        ("ConcurrencyThrottles", "ResourceThrottles"),
    ),
    SeriesSpec("duration_avg_ms", Unit.MILLISECONDS, "Mean execution time.", ("AvgDuration",)),
    SeriesSpec(
        "duration_p99_ms", Unit.MILLISECONDS, "99th percentile execution time.", ("P99Duration",)
    ),
    SeriesSpec(
        "concurrent_instances",
        Unit.INSTANCES,
        "On-demand instances in use.",
        ("OndemandActiveInstance",),
    ),
)


def cms_metric(part: str, qualifier: str | None) -> str:
    return f"FunctionQualifier{part}" if qualifier is not None else f"Function{part}"


@dataclass(frozen=True)
class Window:
    start: int  # epoch seconds, aligned to period
    end: int  # exclusive, aligned to period
    period: int

    @property
    def slots(self) -> range:
        return range(self.start, self.end, self.period)


def window(
    start: datetime | None,
    end: datetime | None,
    period: int,
    allowed: Sequence[int],
    now: datetime | None = None,
) -> Window:
    """The periods to show, or a 422 naming the parameter that is wrong."""
    if period not in allowed:
        raise InvalidInput(
            f"period must be one of {', '.join(map(str, allowed))} seconds for this account",
            field="period",
        )
    current = now or datetime.now(UTC)
    end = _utc(end) if end is not None else current
    if end < current - RETENTION:
        raise InvalidInput("to is older than CloudMonitor keeps metrics (31 days)", field="to")
    start = _utc(start) if start is not None else end - DEFAULT_RANGE
    if start >= end:
        raise InvalidInput("from must be earlier than to", field="from")
    if start < current - RETENTION:
        raise InvalidInput("from is older than CloudMonitor keeps metrics (31 days)", field="from")
    first = math.floor(start.timestamp() / period) * period
    last = math.ceil(end.timestamp() / period) * period
    if (last - first) // period > MAX_POINTS:
        raise InvalidInput(
            f"from..to at period {period} s is {(last - first) // period} points; at most "
            f"{MAX_POINTS}: use a longer period or a shorter range",
            field="period",
        )
    return Window(first, last, period)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class MetricsService:
    def __init__(self, db: Database, box: SecretBox, gateway: CloudMonitorGateway) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway

    async def access(self, ref: FunctionRef) -> FcAccess:
        """The account of a managed function (404 when fcplane does not manage it)."""
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            return access_for(self.box, function.account)

    async def function_metrics(
        self,
        ref: FunctionRef,
        qualifier: str | None,
        start: datetime | None,
        end: datetime | None,
        period: int,
    ) -> FunctionMetricsOut:
        access = await self.access(ref)  # the session is closed before CloudMonitor is asked
        allowed = CLOUD_PERIODS if access.is_alibaba_cloud else EMULATOR_PERIODS
        span = window(start, end, period, allowed)
        queries = [
            MetricQuery(
                metric=cms_metric(part, qualifier),
                function=ref.name,
                qualifier=qualifier,
                # CloudMonitor's range is (StartTime, EndTime] on period starts.
                start_ms=span.start * 1000 - 1,
                end_ms=span.end * 1000 - 1,
                period=span.period,
            )
            for spec in SERIES
            for part in spec.parts
        ]
        answers = await asyncio.gather(*(self.gateway.datapoints(access, q) for q in queries))
        by_metric = {q.metric: points for q, points in zip(queries, answers, strict=True)}
        metrics = {
            spec.name: _series(
                spec, [by_metric[cms_metric(p, qualifier)] for p in spec.parts], span, qualifier
            )
            for spec in SERIES
        }
        return FunctionMetricsOut(
            account=ref.account,
            function=ref.name,
            qualifier=qualifier,
            start=datetime.fromtimestamp(span.start, UTC),
            end=datetime.fromtimestamp(span.end, UTC),
            period=span.period,
            source="cloudmonitor" if access.is_alibaba_cloud else "emulator",
            metrics=metrics,
        )


def _value(point: dict[str, Any], unit: Unit) -> float | None:
    # FC's metrics carry `Value`; other statistics are read when it is absent.
    keys = ("Value", "Sum") if unit is Unit.COUNT else ("Value", "Average", "Maximum")
    for key in keys:
        raw = point.get(key)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
    return None


def _series(
    spec: SeriesSpec, answers: list[list[dict[str, Any]]], span: Window, qualifier: str | None
) -> MetricSeriesOut:
    per_slot: dict[int, float] = {}
    for points in answers:
        for point in points:
            stamp, value = point.get("timestamp"), _value(point, spec.unit)
            if not isinstance(stamp, int | float) or value is None:
                continue
            slot = int(stamp) // 1000 // span.period * span.period
            if span.start <= slot < span.end:
                per_slot[slot] = per_slot.get(slot, 0.0) + value
    default = 0.0 if spec.is_count else None
    series = [(slot * 1000, per_slot.get(slot, default)) for slot in span.slots]
    values = list(per_slot.values())
    if not values:
        total = 0.0 if spec.is_count else None
    else:
        total = sum(values) if spec.is_count else max(values)
    return MetricSeriesOut(
        unit=spec.unit,
        description=spec.description,
        source=[cms_metric(part, qualifier) for part in spec.parts],
        points=series,
        total=total,
    )

"""A function's metrics as the API returns them: chart-ready series of [timestamp, value]."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Unit(StrEnum):
    COUNT = "count"
    MILLISECONDS = "ms"
    INSTANCES = "instances"


class MetricSeriesOut(BaseModel):
    unit: Unit
    description: str
    source: list[str] = Field(
        description="The CloudMonitor metrics (namespace `acs_fc`) this series adds up."
    )
    points: list[tuple[int, float | None]] = Field(
        description="One `[timestamp, value]` per period, oldest first: the timestamp is "
        "the period's start in epoch milliseconds. Counts are 0 in a period without data; "
        "durations and instances are null there (nothing ran: no figure, not a zero)."
    )
    total: float | None = Field(
        description="Counts: the sum over the range. Durations: the largest period value. "
        "Instances: the most at once. Null when no period had data."
    )


class FunctionMetricsOut(BaseModel):
    account: str
    function: str
    qualifier: str | None = Field(
        description="The version or alias the figures are for; null: the whole function."
    )
    start: datetime = Field(
        alias="from", description="Start of the first period (aligned to `period`)."
    )
    end: datetime = Field(alias="to", description="End of the last period (exclusive).")
    period: int = Field(description="Seconds per point.")
    source: str = Field(
        description="`cloudmonitor` (Alibaba Cloud's CloudMonitor) or `emulator` (the "
        "emulator answering the same CloudMonitor call)."
    )
    metrics: dict[str, MetricSeriesOut] = Field(
        description="invocations, errors, throttles, duration_avg_ms, duration_p99_ms, "
        "concurrent_instances."
    )

    model_config = {"populate_by_name": True}

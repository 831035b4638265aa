"""A function's metrics as a self-contained HTML page: inline SVG charts, no scripts.

The page is rendered by the reports' one Jinja2 environment (autoescape,
StrictUndefined), overlaid with this package's templates so it extends the
reports' ``base.html`` and looks like them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import ChoiceLoader, Environment, PackageLoader
from markupsafe import Markup

from service.monitoring.chart import TimeSeries, time_chart
from service.monitoring.schemas import FunctionMetricsOut
from service.reports.render import ENV


def _overlay() -> Environment:
    assert ENV.loader is not None  # the reports' templates (base.html)
    return ENV.overlay(
        loader=ChoiceLoader([PackageLoader("service.monitoring", "templates"), ENV.loader])
    )


_ENV = _overlay()


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    alert: bool = False


def _number(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "\u2013"  # en dash: no data
    text = f"{value:,.0f}" if value == int(value) or value >= 100 else f"{value:,.1f}"
    return text + suffix


def _cards(data: FunctionMetricsOut) -> list[Card]:
    m = data.metrics
    return [
        Card("invocations", _number(m["invocations"].total)),
        Card("errors", _number(m["errors"].total), alert=bool(m["errors"].total)),
        Card("throttles", _number(m["throttles"].total), alert=bool(m["throttles"].total)),
        Card("worst avg duration", _number(m["duration_avg_ms"].total, " ms")),
        Card("worst p99 duration", _number(m["duration_p99_ms"].total, " ms")),
        Card("most instances", _number(m["concurrent_instances"].total)),
    ]


def charts(data: FunctionMetricsOut) -> list[Markup]:
    start_ms = int(data.start.timestamp() * 1000)
    end_ms = int(data.end.timestamp() * 1000)
    m = data.metrics

    def chart(title: str, unit: str, *named: tuple[str, str]) -> Markup:
        drawn = [TimeSeries(label, m[key].points) for label, key in named]
        return time_chart(title, drawn, start_ms, end_ms, unit, data.period)

    return [
        chart(
            f"Invocations per {data.period} s",
            "count",
            ("invocations", "invocations"),
            ("errors", "errors"),
            ("throttles", "throttles"),
        ),
        chart("Duration", "ms", ("avg ms", "duration_avg_ms"), ("p99 ms", "duration_p99_ms")),
        chart("Concurrent instances", "instances", ("instances", "concurrent_instances")),
    ]


def metrics_page(data: FunctionMetricsOut) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _ENV.get_template("metrics.html").render(
        function=data.function,
        generated_at=stamp,
        data=data,
        cards=_cards(data),
        charts=charts(data),
    )

"""A time-series chart for metrics: a fixed time axis, gaps where there is no figure.

The reports' line chart (service/reports/charts.py) fits its x axis to the points
it has and clips outliers, which suits a stress timeline; a metrics chart must
show the whole requested range (an idle hour is information), break its line
where a period has no figure, and never clip a count. It reuses the reports'
palette and axis steps and their CSS classes, so both look alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from service.reports.charts import PALETTE, axis_max

WIDTH, HEIGHT = 640, 250
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 34, 40
LEGEND_SLOT = 96
X_TICKS = 6
Scale = Callable[[float], float]  # a value to a pixel coordinate


@dataclass(frozen=True)
class TimeSeries:
    name: str
    points: Sequence[tuple[int, float | None]]  # (epoch ms, value); None: no figure


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _clock(ms: float, with_seconds: bool) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%H:%M:%S" if with_seconds else "%H:%M")


def _segments(points: Sequence[tuple[int, float | None]]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive points with a value: a gap ends a line."""
    runs: list[list[tuple[int, float]]] = [[]]
    for t, v in points:
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((t, v))
    return [run for run in runs if run]


def time_chart(
    title: str, series: Sequence[TimeSeries], start_ms: int, end_ms: int, unit: str, period: int
) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for s in series for _, v in s.points if v is not None]
    y_max = axis_max(max(values) * 1.08) if values and max(values) > 0 else 1.0
    span = max(1, end_ms - start_ms)

    def px(t: float) -> float:
        return LEFT + (t - start_ms) / span * plot_w

    def py(v: float) -> float:
        return TOP + plot_h - v / y_max * plot_h

    parts = [
        f'<text class="title" x="{LEFT}" y="16">{escape(title)}</text>',
        f'<text class="axis-label" x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">time (UTC)</text>',
        f'<text class="axis-label" transform="translate(14 {TOP + plot_h / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(unit)}</text>',
    ]
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(y_max * i / 4)}</text>"
        )
    for i in range(X_TICKS + 1):
        t = start_ms + span * i / X_TICKS
        # The end ticks lean inward: clear of the value axis' "0" and of the chart's edge.
        anchor = "start" if i == 0 else "end" if i == X_TICKS else "middle"
        parts.append(
            f'<text class="tick" x="{px(t):.1f}" y="{TOP + plot_h + 18}" '
            f'text-anchor="{anchor}">{_clock(t, period < 60)}</text>'
        )
    if not values:
        parts.append(
            f'<text class="tick" x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" '
            f'text-anchor="middle">no data in this range</text>'
        )
    for index, s in enumerate(series):
        parts.extend(_draw(s, PALETTE[index % len(PALETTE)], px, py, index, len(series)))
    label = escape(title)
    return Markup(
        f'<svg class="chart time" role="img" aria-label="{label}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(parts)}</svg>"
    )


def _draw(s: TimeSeries, color: str, px: Scale, py: Scale, index: int, count: int) -> list[str]:
    name = escape(s.name)
    parts = []
    for run in _segments(s.points):
        coords = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in run)
        parts.append(
            f'<polyline class="series" data-series="{name}" points="{coords}" fill="none" '
            f'stroke="{color}" stroke-width="2"/>'
        )
    radius = 2.5 if len(s.points) <= 120 else 1
    parts.extend(
        f'<circle class="point" data-series="{name}" data-x="{t}" data-y="{v:g}" '
        f'cx="{px(t):.1f}" cy="{py(v):.1f}" r="{radius}" fill="{color}">'
        f"<title>{name}: {_number(v)}</title></circle>"
        for t, v in s.points
        if v is not None
    )
    legend_x = WIDTH - RIGHT - (count - index) * LEGEND_SLOT
    parts.append(
        f'<rect x="{legend_x}" y="7" width="10" height="10" fill="{color}"/>'
        f'<text class="legend" x="{legend_x + 14}" y="16">{name}</text>'
    )
    return parts

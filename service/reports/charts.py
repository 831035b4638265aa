"""Inline SVG charts, drawn in Python so reports need no scripts, fonts or CDNs.

Every data point is an element carrying its values (``data-x``/``data-y`` on
line points, ``data-value`` on bars), so tests and curious readers can check a
chart against the numbers. Text is escaped here: the markup is handed to the
templates as already-safe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 28, 44
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea")
HIGHLIGHT = "#f59e0b"
LEGEND_SLOT = 100


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float | None]]  # None: no value (gap)


def nice_ceiling(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def axis_max(value: float) -> float:
    """The top of a value axis with four round steps (gridlines every quarter)."""
    return 4 * nice_ceiling(value / 4)


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"


def _frame(title: str, x_label: str, y_label: str, y_max: float) -> list[str]:
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = [
        f'<text class="title" x="{MARGIN_LEFT}" y="18">{escape(title)}</text>',
        f'<text class="axis-label" x="{MARGIN_LEFT + plot_w / 2}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">{escape(x_label)}</text>',
        f'<text class="axis-label" transform="translate(14 {MARGIN_TOP + plot_h / 2}) '
        f'rotate(-90)" text-anchor="middle">{escape(y_label)}</text>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = MARGIN_TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_fmt(value)}</text>'
        )
    return parts


def _svg(parts: list[str], label: str, kind: str) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg class="chart {kind}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def line_chart(
    title: str,
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    *,
    marker_x: float | None = None,
    marker_label: str = "",
    threshold: float | None = None,
    threshold_label: str = "",
) -> Markup:
    xs = [x for s in series for x, y in s.points if y is not None]
    ys = [y for s in series for _, y in s.points if y is not None]
    if threshold is not None:
        ys.append(threshold)
    if not xs:
        return _svg([*_frame(title, x_label, y_label, 1.0), _no_data()], title, "line")
    x_min, x_max = min(xs), max(xs)
    if x_max == x_min:
        x_max = x_min + 1
    y_max = axis_max(max(ys) * 1.05)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def px(x: float) -> float:
        return MARGIN_LEFT + (x - x_min) / (x_max - x_min) * plot_w

    def py(y: float) -> float:
        return MARGIN_TOP + plot_h - y / y_max * plot_h

    parts = _frame(title, x_label, y_label, y_max)
    for x in sorted(set(xs)) if len(set(xs)) <= 12 else _spread(x_min, x_max, 6):
        parts.append(
            f'<text class="tick" x="{px(x):.1f}" y="{MARGIN_TOP + plot_h + 16}" '
            f'text-anchor="middle">{_fmt(x)}</text>'
        )
    if threshold is not None:
        y = py(threshold)
        parts.append(
            f'<line class="threshold" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="#6b7280" stroke-dasharray="6 4"/>'
            f'<text class="tick" x="{WIDTH - MARGIN_RIGHT}" y="{y - 4:.1f}" '
            f'text-anchor="end">{escape(threshold_label)}</text>'
        )
    if marker_x is not None:
        x = px(marker_x)
        parts.append(
            f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN_TOP}" '
            f'y2="{MARGIN_TOP + plot_h}" stroke="{HIGHLIGHT}" stroke-width="2"/>'
            f'<text class="marker-label" x="{x + 4:.1f}" y="{MARGIN_TOP + 12}" '
            f'fill="#b45309">{escape(marker_label)}</text>'
        )
    for index, s in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        points = [(x, y) for x, y in s.points if y is not None]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        parts.append(
            f'<polyline class="series" data-series="{escape(s.name)}" points="{coords}" '
            f'fill="none" stroke="{color}" stroke-width="2"/>'
        )
        if len(points) <= 120:
            parts.extend(
                f'<circle class="point" data-series="{escape(s.name)}" data-x="{x:g}" '
                f'data-y="{y:g}" cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}">'
                f"<title>{escape(s.name)}: {_fmt(y)} at {_fmt(x)}</title></circle>"
                for x, y in points
            )
        else:  # long timelines: the line carries the shape, points stay findable
            parts.extend(
                f'<circle class="point" data-series="{escape(s.name)}" data-x="{x:g}" '
                f'data-y="{y:g}" cx="{px(x):.1f}" cy="{py(y):.1f}" r="1" fill="{color}"/>'
                for x, y in points
            )
        # Legend on the title row, right-aligned, clear of the plot and its markers.
        legend_x = WIDTH - MARGIN_RIGHT - (len(series) - index) * LEGEND_SLOT
        parts.append(
            f'<rect x="{legend_x}" y="9" width="10" height="10" fill="{color}"/>'
            f'<text class="legend" x="{legend_x + 14}" y="18">{escape(s.name)}</text>'
        )
    return _svg(parts, title, "line")


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    y_label: str,
    *,
    highlight: int | None = None,
    highlight_label: str = "recommended",
) -> Markup:
    known = [v for v in values if v is not None]
    y_max = axis_max(max(known) * 1.1) if known else 1.0
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = _frame(title, "", y_label, y_max)
    slot = plot_w / max(1, len(labels))
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = MARGIN_LEFT + index * slot + slot * 0.15
        parts.append(
            f'<text class="tick" x="{x + slot * 0.35:.1f}" y="{MARGIN_TOP + plot_h + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
        if value is None:
            parts.append(
                f'<text class="tick" x="{x + slot * 0.35:.1f}" y="{MARGIN_TOP + plot_h - 6}" '
                f'text-anchor="middle">failed</text>'
            )
            continue
        height = value / y_max * plot_h
        chosen = index == highlight
        color = HIGHLIGHT if chosen else PALETTE[0]
        parts.append(
            f'<rect class="bar{" recommended" if chosen else ""}" data-label="{escape(label)}" '
            f'data-value="{value:g}" x="{x:.1f}" y="{MARGIN_TOP + plot_h - height:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{color}">'
            f"<title>{escape(label)}: {_fmt(value)}</title></rect>"
            f'<text class="value" x="{x + slot * 0.35:.1f}" '
            f'y="{MARGIN_TOP + plot_h - height - 4:.1f}" text-anchor="middle">{_fmt(value)}'
            f"{' ★ ' + str(escape(highlight_label)) if chosen else ''}</text>"
        )
    return _svg(parts, title, "bar")


def _spread(low: float, high: float, count: int) -> list[float]:
    """Round tick values between low and high, about ``count`` of them."""
    step = nice_ceiling((high - low) / count)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _no_data() -> str:
    return (
        f'<text class="tick" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data</text>'
    )

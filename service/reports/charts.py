"""Inline SVG charts, drawn in Python so reports need no scripts, fonts or CDNs.

Every data point is an element carrying its values (``data-x``/``data-y`` on
line points, ``data-value`` on bars, ``data-low``/``data-high`` on error bars),
so tests and curious readers can check a chart against the numbers. Text is
escaped here: the markup is handed to the templates as already-safe.

Text never collides: widths are estimated generously (:func:`text_width`),
bar labels wrap or turn when their slot is too narrow, crowded ticks are
thinned, and the legend, the marker's label and notes are laid out in rows
above the plot. One outlier does not flatten the rest: when the largest
values dwarf the others the value axis is clipped or turns logarithmic
(:mod:`service.reports.axis`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from service.reports.axis import Axis, fmt, nice_ceiling, value_axis
from service.reports.axis import axis_max as axis_max  # service.monitoring draws with it
from service.reports.canvas import MARGIN_LEFT, MARGIN_RIGHT, PLOT_H, WIDTH, Canvas, plot_width
from service.reports.layout import fit_labels, text_width

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea")
HIGHLIGHT = "#f59e0b"
THRESHOLD_COLOR = "#6b7280"


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float | None]]  # None: no value (gap)
    # Each point's 95% interval (aligned with ``points``), drawn as error bars.
    errors: Sequence[tuple[float, float] | None] | None = None


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
    log_scale: bool = False,
) -> Markup:
    """``log_scale``: a logarithmic axis when the values span over a decade and no
    clipping tames them (latencies, not counts)."""
    canvas = Canvas(title)
    xs = [x for s in series for x, y in s.points if y is not None]
    ys = [y for s in series for _, y in s.points if y is not None]
    ys += [e[1] for s in series for e in s.errors or () if e is not None]
    if not xs:
        canvas.body.append(
            f'<text class="tick" x="{WIDTH / 2}" y="{PLOT_H / 2}" text-anchor="middle">'
            "no data</text>"
        )
        return canvas.render("line", 44, x_label, y_label, Axis(1.0))
    x_min, x_max = min(xs), max(xs)
    if x_max == x_min:
        x_max = x_min + 1
    axis = value_axis(ys, threshold or 0.0, allow_log=log_scale)

    def px(x: float) -> float:
        return MARGIN_LEFT + (x - x_min) / (x_max - x_min) * plot_width()

    def py(y: float) -> float:
        return PLOT_H - axis.share(y) * PLOT_H

    legend = [(s.name, PALETTE[i % len(PALETTE)], "bar") for i, s in enumerate(series)]
    if threshold is not None:  # named in the legend: a label on the line would cross the data
        legend.append((threshold_label, THRESHOLD_COLOR, "dash"))
    canvas.legend(legend)
    if marker_x is not None:
        x = px(marker_x)
        canvas.note(f"▼ {marker_label}", x - 4, "marker-label", "#b45309")
        canvas.body.append(
            f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{PLOT_H}" '
            f'stroke="{HIGHLIGHT}" stroke-width="2"/>'
        )
    if axis.clipped:
        above = [y for y in ys if axis.over(y)]
        canvas.note(
            f"▲ {len(above)} value{'s' if len(above) > 1 else ''} above the axis "
            f"(largest {fmt(max(above))}), drawn at its top",
            MARGIN_LEFT,
        )
    distinct = sorted(set(xs))
    ticks = distinct if len(distinct) <= 12 else _spread(x_min, x_max, 6)
    kept = thin([(px(x), fmt(x)) for x in ticks])
    canvas.body.extend(
        f'<text class="tick" x="{x:.1f}" y="{PLOT_H + 16}" text-anchor="middle">{text}</text>'
        for x, text in kept
    )
    if threshold is not None:
        y = py(threshold)
        canvas.body.append(
            f'<line class="threshold" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="{THRESHOLD_COLOR}" stroke-dasharray="6 4">'
            f"<title>{escape(threshold_label)}</title></line>"
        )
    for index, s in enumerate(series):
        canvas.body.extend(_polyline(s, PALETTE[index % len(PALETTE)], px, py, axis))
    return canvas.render("line", 44, x_label, y_label, axis)


Scale = Callable[[float], float]


def _polyline(s: Series, color: str, px: Scale, py: Scale, axis: Axis) -> list[str]:
    points = [(x, y) for x, y in s.points if y is not None]
    intervals = [e for (_, y), e in zip(s.points, s.errors or (), strict=False) if y is not None]
    coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
    name = escape(s.name)
    parts = [
        f'<polyline class="series" data-series="{name}" points="{coords}" '
        f'fill="none" stroke="{color}" stroke-width="2"/>'
    ]
    radius = 3 if len(points) <= 120 else 1  # long timelines: the line carries the shape
    for index, (x, y) in enumerate(points):
        interval = intervals[index] if index < len(intervals) else None
        if interval is not None:
            parts.append(_error_bar(interval, px(x), 24, py))
        over = axis.over(y)
        clip = ' data-clipped="true"' if over else ""
        parts.append(
            f'<circle class="point" data-series="{name}" data-x="{x:g}" data-y="{y:g}"{clip} '
            f'cx="{px(x):.1f}" cy="{py(y):.1f}" r="{radius}" fill="{color}">'
            f"<title>{name}: {fmt(y)} at {fmt(x)}</title></circle>"
        )
        if over:
            parts.append(
                f'<path class="clip-mark" d="M{px(x) - 4:.1f} 7l4 -7l4 7z" fill="{color}"/>'
            )
    return parts


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    y_label: str,
    *,
    highlight: int | None = None,
    highlight_label: str = "recommended",
    errors: Sequence[tuple[float, float] | None] | None = None,
) -> Markup:
    """Bars with optional error bars (``errors``: each bar's interval, or None); the
    highlighted bar is drawn in the highlight color with a ★ under its label."""
    canvas = Canvas(title)
    intervals = list(errors) if errors is not None else [None] * len(values)
    tops = [v for v in values if v is not None] + [e[1] for e in intervals if e is not None]
    axis = value_axis(tops)
    legend = [("95% interval", "#111827", "error")] if any(intervals) else []
    if highlight is not None:
        legend.insert(0, (f"★ {highlight_label}", HIGHLIGHT, "bar"))
    if legend:
        canvas.legend(legend)
    if axis.clipped:
        canvas.note("▲ bars and intervals above the axis are cut at its top", MARGIN_LEFT)
    slot = plot_width() / max(1, len(labels))
    fitted = fit_labels(labels, slot, highlight)

    def py(y: float) -> float:
        return PLOT_H - axis.share(y) * PLOT_H

    for index, (label, value, interval) in enumerate(zip(labels, values, intervals, strict=True)):
        center = MARGIN_LEFT + index * slot + slot / 2
        chosen = index == highlight
        canvas.body.append(fitted.draw(index, center, PLOT_H + 14))
        if value is None:
            canvas.body.append(
                f'<text class="tick" x="{center:.1f}" y="{PLOT_H - 6}" '
                f'text-anchor="middle">failed</text>'
            )
            continue
        canvas.body.append(
            _bar(label, value, center, slot, chosen, py, over=axis.over(value))
            + (_error_bar(interval, center, slot, py) if interval else "")
        )
        top = min(py(value), py(interval[1]) if interval else PLOT_H)
        text = ("↑ " if axis.over(value) else "") + fmt(value)
        if text_width(text) <= slot - 2 and top > 12:
            canvas.body.append(
                f'<text class="value" x="{center:.1f}" y="{top - 5:.1f}" '
                f'text-anchor="middle">{text}</text>'
            )
    return canvas.render("bar", fitted.height + 8, "", y_label, axis)


def _bar(
    label: str, value: float, center: float, slot: float, chosen: bool, py: Scale, over: bool
) -> str:
    top, width = py(value), min(slot * 0.6, 80)
    color = HIGHLIGHT if chosen else PALETTE[0]
    cls = "bar recommended" if chosen else "bar"
    clip = ' data-clipped="true"' if over else ""
    return (
        f'<rect class="{cls}" data-label="{escape(label)}" data-value="{value:g}"{clip} '
        f'x="{center - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" '
        f'height="{PLOT_H - top:.1f}" fill="{color}">'
        f"<title>{escape(label)}: {fmt(value)}</title></rect>"
    )


def _error_bar(interval: tuple[float, float], center: float, slot: float, py: Scale) -> str:
    low, high = interval
    cap = min(slot * 0.15, 8)
    y_low, y_high = py(low), py(high)
    return (
        f'<path class="error-bar" data-low="{low:g}" data-high="{high:g}" '
        f'd="M{center:.1f} {y_low:.1f}V{y_high:.1f}M{center - cap:.1f} {y_high:.1f}'
        f'h{2 * cap:.1f}M{center - cap:.1f} {y_low:.1f}h{2 * cap:.1f}" '
        f'stroke="#111827" stroke-width="1.5" fill="none">'
        f"<title>95% interval {fmt(low)} to {fmt(high)}</title></path>"
    )


def thin(ticks: list[tuple[float, str]], gap: float = 6) -> list[tuple[float, str]]:
    """Drop ticks whose (centered) text would touch the previous kept one; the last tick
    wins over the one before it."""

    def touches(a: tuple[float, str], b: tuple[float, str]) -> bool:
        return b[0] - text_width(b[1]) / 2 < a[0] + text_width(a[1]) / 2 + gap

    kept: list[tuple[float, str]] = []
    for tick in ticks[:-1]:
        if not kept or not touches(kept[-1], tick):
            kept.append(tick)
    if ticks:
        while len(kept) > 1 and touches(kept[-1], ticks[-1]):
            kept.pop()
        if not kept or not touches(kept[-1], ticks[-1]):
            kept.append(ticks[-1])
    return kept


def _spread(low: float, high: float, count: int) -> list[float]:
    """Round tick values between low and high, about ``count`` of them."""
    step = nice_ceiling((high - low) / count)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]

"""The value axis of a chart: linear, clipped above a few outliers, or logarithmic.

One slow request or one overloaded step should not flatten everything else
into the bottom pixel row. When a few values (at most 10%, at least one) stand
more than ``CLIP_RATIO`` times above the rest, the axis ends above the rest
and the outliers are drawn at its top edge, marked. When the values spread
over decades instead (a latency that grows step after step), line charts
switch to a logarithmic axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CLIP_RATIO = 3.0
LOG_SPAN = 10.0  # max / min at which a latency chart turns logarithmic


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


def fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"


@dataclass(frozen=True)
class Axis:
    top: float
    clipped: bool = False
    bottom: float | None = None  # set: logarithmic from this power of ten

    @property
    def log(self) -> bool:
        return self.bottom is not None

    def share(self, value: float) -> float:
        """Where ``value`` sits between the bottom (0) and the top (1) of the axis."""
        if self.bottom is not None:
            if value <= self.bottom:
                return 0.0
            span = math.log10(self.top) - math.log10(self.bottom)
            return min(1.0, (math.log10(value) - math.log10(self.bottom)) / span)
        return min(max(value, 0.0), self.top) / self.top

    def over(self, value: float) -> bool:
        return value > self.top

    def ticks(self) -> list[float]:
        if self.bottom is None:
            return [self.top * i / 4 for i in range(5)]
        first = math.floor(math.log10(self.bottom))
        decades = math.ceil(math.log10(self.top)) - first
        steps = (1, 2, 5) if decades <= 2 else (1,)
        values = {
            10 ** (first + d) * step
            for d in range(decades + 1)
            for step in steps
            if self.bottom <= 10 ** (first + d) * step <= self.top
        }
        return sorted(values | {self.bottom, self.top})


def value_axis(values: Sequence[float], floor: float = 0.0, allow_log: bool = False) -> Axis:
    """The axis for ``values``; ``floor`` (a threshold line) always stays in view."""
    ordered = sorted((v for v in values if v > 0), reverse=True)
    if not ordered:
        return Axis(axis_max(max(floor, 1.0) * 1.1))
    allowed = max(1, len(ordered) // 10)
    rest = ordered[allowed] if len(ordered) > allowed else 0.0
    if rest > 0 and ordered[0] > CLIP_RATIO * rest:
        top = axis_max(max(rest, floor) * 1.15)
        if ordered[0] > top:
            return Axis(top, clipped=True)
    low = min([*ordered, floor] if floor > 0 else ordered)
    high = max(ordered[0], floor)
    if allow_log and high / low >= LOG_SPAN:
        return Axis(_round_log(high, up=True), bottom=_round_log(low, up=False))
    return Axis(axis_max(high * 1.12))


def _round_log(value: float, up: bool) -> float:
    """The nearest 1, 2 or 5 times a power of ten above (or below) ``value``."""
    power = 10 ** math.floor(math.log10(value))
    candidates = [power * step for step in (1, 2, 5, 10)]
    if up:
        return float(min(c for c in candidates if c >= value))
    return float(max(c for c in candidates if c <= value))

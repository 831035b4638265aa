"""The frame every chart is drawn in: the title, rows of text above the plot (legend,
marker label, notes) that never touch, the value axis with its gridlines, and the SVG
element around it all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from service.reports.axis import Axis, fmt
from service.reports.layout import Rows, text_width

WIDTH = 640
PLOT_H = 188
MARGIN_LEFT, MARGIN_RIGHT = 64, 16
TITLE_Y, ROW_H = 18, 19  # rows of 11px text: Chromium's text boxes are 17-18px tall


@dataclass
class Canvas:
    """One chart's SVG parts and its layout: rows of text above the plot, labels below."""

    title: str
    rows: Rows = field(init=False)
    head: list[str] = field(default_factory=list)  # drawn in the rows above the plot
    body: list[str] = field(default_factory=list)  # drawn relative to the plot's top

    def __post_init__(self) -> None:
        self.rows = Rows(WIDTH - MARGIN_RIGHT)
        self.rows.take(0, MARGIN_LEFT, MARGIN_LEFT + text_width(self.title, 13))
        self.head.append(
            f'<text class="title" x="{MARGIN_LEFT}" y="{TITLE_Y}">{escape(self.title)}</text>'
        )

    def legend(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """Entries (text, color, swatch kind) right-aligned on the first row they fit."""
        widths = [16 + text_width(text) + 12 for text, _, _ in entries]
        total = sum(widths)
        row = self.rows.first_free(WIDTH - MARGIN_RIGHT - total, WIDTH - MARGIN_RIGHT)
        x = WIDTH - MARGIN_RIGHT - total
        self.rows.take(row, x, x + total)
        y = TITLE_Y + row * ROW_H
        for (text, color, kind), width in zip(entries, widths, strict=True):
            if kind == "bar":
                swatch = f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
            elif kind == "dash":  # a threshold line
                swatch = (
                    f'<path d="M{x} {y - 4}h4M{x + 7} {y - 4}h4" stroke="{color}" '
                    'stroke-width="1.5" fill="none"/>'
                )
            else:  # an error bar
                swatch = (
                    f'<path d="M{x + 2} {y - 10}h6M{x + 5} {y - 10}v11M{x + 2} {y + 1}h6" '
                    f'stroke="{color}" stroke-width="1.5" fill="none"/>'
                )
            self.head.append(
                f'{swatch}<text class="legend" x="{x + 14}" y="{y}">{escape(text)}</text>'
            )
            x += width

    def note(self, text: str, anchor_x: float, cls: str = "note-label", fill: str = "") -> None:
        """A line of text above the plot starting at ``anchor_x`` (ending there if it
        would run off the right edge), on the first row where it fits."""
        width = text_width(text)
        start = anchor_x if anchor_x + width <= WIDTH - MARGIN_RIGHT else anchor_x - width
        start = max(2.0, start)
        row = self.rows.first_free(start, start + width, first=1)
        self.rows.take(row, start, start + width)
        color = f' fill="{fill}"' if fill else ""
        self.head.append(
            f'<text class="{cls}" x="{start:.1f}" y="{TITLE_Y + row * ROW_H}"{color}>'
            f"{escape(text)}</text>"
        )

    @property
    def top(self) -> float:
        return TITLE_Y + self.rows.used * ROW_H - 2

    def render(self, kind: str, bottom: float, x_label: str, y_label: str, axis: Axis) -> Markup:
        top = self.top
        height = top + PLOT_H + bottom
        if axis.log:
            y_label += " (log scale)"
        parts = list(self.head)
        if x_label:
            parts.append(
                f'<text class="axis-label" x="{MARGIN_LEFT + plot_width() / 2}" '
                f'y="{height - 6:.1f}" text-anchor="middle">{escape(x_label)}</text>'
            )
        parts.append(
            f'<text class="axis-label" transform="translate(14 {top + PLOT_H / 2:.1f}) '
            f'rotate(-90)" text-anchor="middle">{escape(y_label)}</text>'
        )
        for value in axis.ticks():
            y = top + PLOT_H - PLOT_H * axis.share(value)
            parts.append(
                f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
                f'y1="{y:.1f}" y2="{y:.1f}"/>'
                f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" '
                f'text-anchor="end">{fmt(value)}</text>'
            )
        parts.append(f'<g transform="translate(0 {top:.1f})">{"".join(self.body)}</g>')
        return Markup(
            f'<svg class="chart {kind}" role="img" aria-label="{escape(self.title)}" '
            f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
        )


def plot_width() -> float:
    return WIDTH - MARGIN_LEFT - MARGIN_RIGHT

"""Text geometry for the SVG charts: how wide a label is, rows that texts share without
touching, and bar labels fitted to their slots (flat, wrapped or turned).

Widths are estimated per character from a proportional sans-serif's typical
advance widths, rounded up, so an estimate is never narrower than what the
browser draws (the report tests measure the real boxes in Chromium).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import escape

FONT = 11
LINE_H = 13
GAP = 8
TURN_DEGREES = 60
# Advance widths in em: narrow glyphs, wide glyphs, capitals, digits, everything else.
_NARROW = set("il.,:;|!'()[] ·")
_WIDE = set("mwMW@%")
STAR_COLOR = "#b45309"


def text_width(text: str, size: float = FONT) -> float:
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.32
        elif char in _WIDE:
            em += 0.9
        elif char.isupper():
            em += 0.7
        elif char.isdigit() or char.islower():
            em += 0.58
        else:  # symbols (★ ▲ ↑ and dashes): as wide as a capital or more
            em += 1.0
    return em * size * 1.05


@dataclass
class Rows:
    """Rows of text above a plot; row 0 is the title's. Each row keeps the spans taken."""

    right: float
    spans: list[list[tuple[float, float]]] = field(default_factory=list)

    def first_free(self, start: float, end: float, first: int = 0) -> int:
        row = first
        while row < len(self.spans) and any(
            start < b + GAP and a < end + GAP for a, b in self.spans[row]
        ):
            row += 1
        return row

    def take(self, row: int, start: float, end: float) -> None:
        while len(self.spans) <= row:
            self.spans.append([])
        self.spans[row].append((start, end))

    @property
    def used(self) -> int:
        return max(1, len(self.spans))


def split_label(label: str) -> list[str]:
    """``1 vCPU · 2048 MB`` → two lines, at the spec separator (or a slash)."""
    parts = [p.strip() for p in re.split(r"\s+·\s+|/", label) if p.strip()]
    return parts or [label]


@dataclass(frozen=True)
class FittedLabels:
    """Bar labels laid out for one slot width."""

    labels: Sequence[str]
    mode: str  # "flat" | "wrap" | "turn"
    every: int  # draw every n-th label (turned labels in very narrow slots)
    height: float  # below the plot
    star: int | None  # the highlighted label's index: a ★ marks it

    def draw(self, index: int, center: float, y: float) -> str:
        label = self.labels[index]
        title = f"<title>{escape(label)}</title>"
        star = index == self.star
        if self.mode == "turn":
            near_star = self.star is not None and 0 < abs(index - self.star) < self.every
            if not star and (index % self.every or near_star):
                return ""
            text = ("★ " if star else "") + label
            color = f' fill="{STAR_COLOR}"' if star else ""
            cls = "tick bar-label star" if star else "tick bar-label"
            return (
                f'<text class="{cls}" x="{center:.1f}" y="{y:.1f}" text-anchor="end" '
                f'transform="rotate(-{TURN_DEGREES} {center:.1f} {y - 4:.1f})"{color}>'
                f"{escape(text)}{title}</text>"
            )
        lines = [label] if self.mode == "flat" else split_label(label)
        parts = [
            f'<text class="tick bar-label" x="{center:.1f}" y="{y + i * LINE_H:.1f}" '
            f'text-anchor="middle">{escape(line)}{title}</text>'
            for i, line in enumerate(lines)
        ]
        if star:
            parts.append(
                f'<text class="tick star" x="{center:.1f}" y="{y + len(lines) * LINE_H:.1f}" '
                f'text-anchor="middle" fill="{STAR_COLOR}">★</text>'
            )
        return "".join(parts)


def fit_labels(labels: Sequence[str], slot: float, star: int | None = None) -> FittedLabels:
    room = slot - GAP
    star_row = LINE_H if star is not None else 0
    if not labels or max(text_width(label) for label in labels) <= room:
        return FittedLabels(labels, "flat", 1, LINE_H + star_row, star)
    lines = [split_label(label) for label in labels]
    if max(text_width(line) for ls in lines for line in ls) <= room:
        depth = max(len(ls) for ls in lines)
        return FittedLabels(labels, "wrap", 1, depth * LINE_H + star_row, star)
    # Turned labels: neighbours are slot * sin(angle) apart, perpendicular to the text.
    every = max(1, math.ceil((LINE_H + 2) / (slot * math.sin(math.radians(TURN_DEGREES)))))
    longest = max(text_width("★ " + label) for label in labels)
    height = longest * math.sin(math.radians(TURN_DEGREES)) + LINE_H
    return FittedLabels(labels, "turn", every, height, star)

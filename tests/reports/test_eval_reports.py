"""Eval reports for people: intervals as error bars, currency, the saving against the live
spec, the timer warning, outliers that do not flatten the rest, and chart texts that never
collide, measured as drawn in headless Chromium."""

from __future__ import annotations

import html as entities
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.reports import browser
from service.reports.charts import Series, bar_chart, line_chart
from service.reports.layout import fit_labels
from service.reports.render import eval_concurrency_report, eval_spec_report, stress_report
from tests.conftest import unavailable
from tests.reports.samples import (
    concurrency_result,
    issue_result,
    one_ms_result,
    p99_spike,
    spec_result,
    stored_before_intervals,
    stress_result,
    twenty_specs_result,
)

SIX = ["0.25 vCPU · 512 MB", "0.5 vCPU · 1024 MB", "1 vCPU · 2048 MB",
       "1 vCPU · 4096 MB", "2 vCPU · 4096 MB", "4 vCPU · 8192 MB"]  # fmt: skip


def visible(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", entities.unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_issues_six_specs_recommend_the_cheaper_equivalent() -> None:
    result = issue_result()
    rec = result["recommendation"]
    assert (rec["cpu"], rec["memorySize"]) == (1.0, 2048)
    html = eval_spec_report("burn", {}, result)
    text = visible(html)
    assert "Why: 1 vCPU · 4096 MB measured 148 ms against 200 ms for 1 vCPU · 2048 MB" in text
    assert "The speed strategy alone would pick 1 vCPU · 4096 MB" in text
    needed = rec["separation"]["invocations_per_spec"]
    assert f"Top two: about {needed} invocations per spec would separate" in text
    # Cheaper than the live 4096 MB spec: the card says by how much, in which currency.
    assert rec["saving_vs_live_pct"] > 0
    assert f"saves {rec['saving_vs_live_pct']:g}%" in text
    assert f"{rec['cost_per_1m']:.4g} USD" in text
    assert "Cost per million invocations (USD)" in html
    assert "95% interval" in text


def test_one_millisecond_everywhere_warns_of_no_meaningful_pick() -> None:
    text = visible(eval_spec_report("tiny", {}, one_ms_result()))
    assert "Warning: Every spec measured within the timer's 1 ms resolution" in text
    assert "no meaningful pick" in text
    assert "differ by 0 ms, within the timer's 1 ms resolution: equivalent" in text


def test_results_stored_before_intervals_still_render() -> None:
    html = eval_spec_report("burn", {}, stored_before_intervals())
    assert "error-bar" not in html
    assert "stored without confidence intervals" in visible(html)
    assert "USD" in html  # the price model's currency then was the default
    assert "Why:" not in html


def test_concurrency_report_shows_p99_intervals_and_saving() -> None:
    result = concurrency_result()
    html = eval_concurrency_report("sleepy", {}, result)
    errors = re.findall(r'class="error-bar" data-low="([^"]+)" data-high="([^"]+)"', html)
    assert [(float(lo), float(hi)) for lo, hi in errors] == [
        (s["p99_ci"]["low"], s["p99_ci"]["high"]) for s in result["steps"]
    ]
    text = visible(html)
    assert "saves 71.2%" in text
    assert "0.0021 USD" in text
    assert "Why: instanceConcurrency 4 is the highest step" in text
    # 300 requests are too few for the upper end of a p99 interval: said, not hidden.
    assert all(s["p99_ci"]["capped"] for s in result["steps"])
    assert "+: too few requests reached the 99th percentile" in text
    assert "threshold 100 ms" in text  # in the legend, with a dashed swatch


def test_one_outlier_does_not_flatten_the_rest() -> None:
    spike = p99_spike()
    p50 = [(t, 20 + (t % 5)) for t, _ in spike]
    chart = line_chart("Latency", [Series("p50 ms", p50), Series("p99 ms", spike)], "s", "ms")
    clipped = re.findall(r'data-series="p99 ms" data-x="([^"]+)" data-y="([^"]+)" '
                         r'data-clipped="true"', chart)  # fmt: skip
    assert [(float(x), float(y)) for x, y in clipped] == [(0, 970.0), (1, 700.0)]
    assert "2 values above the axis (largest 970), drawn at its top" in chart
    # The axis ends near the steady state: p50 (20..24 ms) spans a visible part of it.
    top = max(float(v) for v in re.findall(r'text-anchor="end">([\d,.]+)</text>', chart)
              if v.replace(",", "").replace(".", "").isdigit())  # fmt: skip
    assert top <= 100
    ys = [float(y) for y in re.findall(r'data-series="p50 ms"[^>]* cy="([^"]+)"', chart)]
    assert max(ys) - min(ys) > 5  # pixels: p50's wiggle shows


def test_values_over_decades_get_a_log_axis() -> None:
    steps = [(c, 50.0 * c * c) for c in (1, 2, 4, 8, 16)]  # 50 ms .. 12.8 s, both series
    series = [Series("p50 ms", steps), Series("p99 ms", steps)]
    assert "log scale" not in line_chart("Latency", series, "concurrency", "ms")  # opt-in
    chart = line_chart("Latency", series, "concurrency", "ms", log_scale=True)
    assert "ms (log scale)" in chart
    assert "data-clipped" not in chart
    ys = [float(y) for y in re.findall(r'data-series="p50 ms"[^>]* cy="([^"]+)"', chart)]
    gaps = [a - b for a, b in itertools.pairwise(ys)]
    assert gaps == pytest.approx([gaps[0]] * len(gaps), abs=0.2)  # equal ratios, equal steps


@pytest.mark.parametrize(("count", "mode"), [(4, "flat"), (6, "wrap"), (20, "turn")])
def test_bar_labels_wrap_then_turn(count: int, mode: str) -> None:
    labels = (SIX * 4)[:count]
    slot = (640 - 64 - 16) / count
    assert fit_labels(labels, slot).mode == mode


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = browser.chromium_binary()
    if binary is None:
        unavailable("chromium", "not installed; apt-get install -y chromium")
    assert binary is not None
    return binary


def test_the_probe_sees_colliding_texts(chromium: str, tmp_path: Path) -> None:
    """A guard against a vacuous pass: two texts drawn on each other, one off the chart."""
    svg = ('<svg class="chart" width="200" height="100" xmlns="http://www.w3.org/2000/svg">'
           '<text x="10" y="50">recommended</text><text x="30" y="52">2048 MB</text>'
           '<text x="190" y="90">outside</text></svg>')  # fmt: skip
    layout = browser.text_layout(f"<!doctype html><html><body>{svg}</body></html>", tmp_path)
    assert layout.texts == 3
    assert layout.problems == ["overlap: recommended / 2048 MB", "outside the chart: outside"]


REPORTS: dict[str, Callable[[], str]] = {
    "spec": lambda: eval_spec_report("burn", {}, spec_result()),
    "issue-six-specs": lambda: eval_spec_report("burn", {}, issue_result()),
    "twenty-specs": lambda: eval_spec_report("burn", {}, twenty_specs_result()),
    "one-ms": lambda: eval_spec_report("tiny", {}, one_ms_result()),
    "stored-before-intervals": lambda: eval_spec_report("burn", {}, stored_before_intervals()),
    "concurrency": lambda: eval_concurrency_report("sleepy", {}, concurrency_result()),
    "concurrency-decades": lambda: eval_concurrency_report(
        "sleepy", {}, concurrency_result((1, 2, 4, 8, 16, 32, 64, 128))
    ),
    "stress": lambda: stress_report(
        "echo", {"target": "invoke", "duration_s": 10, "rps": 100}, stress_result()
    ),
    "spike": lambda: str(
        line_chart(
            "Latency",
            [Series("p99 ms", p99_spike())],
            "seconds",
            "ms",
            marker_x=29,
            marker_label="recommended",
            threshold=80,
            threshold_label="threshold 80 ms",
        )
    ),
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_chart_texts_never_collide(chromium: str, name: str, tmp_path: Path) -> None:
    html = REPORTS[name]()
    if not html.startswith("<!doctype"):
        html = f"<!doctype html><html><body>{html}</body></html>"
    layout = browser.text_layout(html, tmp_path)
    assert layout.texts >= 12
    assert layout.problems == []
    loaded = browser.load(tmp_path / "layout-probe.html")
    assert not [line for line in loaded.console if "layout-probe" not in line]


def test_bar_chart_keeps_its_data(chromium: str) -> None:
    """Wrapped and turned labels still name each bar; the ★ marks the recommended one."""
    values: list[Any] = [790, 417, 176, 140, 112, 58]
    chart = bar_chart("Billed", SIX, values, "ms", highlight=2, errors=[(700, 880)] * 6)
    bars = re.findall(r'<rect class="(bar[^"]*)" data-label="([^"]+)" data-value="([^"]+)"', chart)
    assert [(label, float(v)) for _, label, v in bars] == list(zip(SIX, values, strict=True))
    assert [label for cls, label, _ in bars if "recommended" in cls] == [SIX[2]]
    assert chart.count(">★</text>") == 1

"""Reports: one strict Jinja environment, self-contained pages, charts that carry their data,
and a real headless Chromium loading them without a console message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from service.reports import browser
from service.reports.render import (
    ENV,
    eval_concurrency_report,
    eval_spec_report,
    stress_report,
)
from tests.conftest import unavailable
from tests.reports.samples import concurrency_result, spec_result, stress_result


def reports() -> dict[str, str]:
    return {
        "stress": stress_report("echo", {"target": "invoke", "duration_s": 10, "rps": 100},
                                stress_result()),
        "eval-spec": eval_spec_report("burn", {}, spec_result()),
        "eval-concurrency": eval_concurrency_report("sleepy", {}, concurrency_result()),
    }  # fmt: skip


def points(html: str, series: str) -> list[tuple[float, float]]:
    pattern = rf'class="point" data-series="{re.escape(series)}" data-x="([^"]+)" data-y="([^"]+)"'
    return [(float(x), float(y)) for x, y in re.findall(pattern, html)]


def test_environment_is_strict_and_escaping() -> None:
    assert ENV.autoescape is not False
    with pytest.raises(UndefinedError):
        ENV.from_string("{{ missing }}").render()
    html = stress_report("<script>alert(1)</script>", {"target": "invoke", "duration_s": 1,
                         "users": 1}, stress_result(None))  # fmt: skip
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize("kind", ["stress", "eval-spec", "eval-concurrency"])
def test_self_contained(kind: str) -> None:
    html = reports()[kind]
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html
    assert "url(" not in html
    assert "Content-Security-Policy" in html  # anything external would be blocked


def test_stress_charts_carry_the_timeline() -> None:
    result = stress_result()
    html = reports()["stress"]
    assert points(html, "requests/s") == [(p["t"], p["rps"]) for p in result["timeline"]]
    assert len(points(html, "p99 ms")) == len(result["timeline"])
    assert len(points(html, "target")) == len(result["timeline"])
    assert "HTTP 503" in html


def test_spec_charts_mark_the_recommendation() -> None:
    result = spec_result()
    html = reports()["eval-spec"]
    rec = result["recommendation"]
    bars = re.findall(
        r'<rect class="bar( recommended)?" data-label="([^"]+)" data-value="([^"]+)"', html
    )
    # duration and cost charts: one bar per measured spec each, the failed one shown as text
    assert len(bars) == 2 * 4
    marked = {label for flag, label, _ in bars if flag}
    assert marked == {f"{rec['cpu']:g} vCPU · {rec['memorySize']} MB"}
    assert "failed" in html
    assert 'class="recommended"' in html
    # Each bar carries its 95% interval as an error bar (duration, then cost per million).
    errors = re.findall(r'class="error-bar" data-low="([^"]+)" data-high="([^"]+)"', html)
    measured = [s for s in result["specs"] if s["duration_ms"] is not None]
    assert [(float(lo), float(hi)) for lo, hi in errors[: len(measured)]] == [
        (s["ci"]["low"], s["ci"]["high"]) for s in measured
    ]
    assert len(errors) == 2 * len(measured)


def test_concurrency_charts_mark_the_recommendation() -> None:
    result = concurrency_result()
    html = reports()["eval-concurrency"]
    assert points(html, "req/s") == [(s["concurrency"], s["rps"]) for s in result["steps"]]
    assert len(points(html, "p99 ms")) == len(result["steps"])
    assert 'class="marker"' in html
    assert 'class="threshold"' in html


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = browser.chromium_binary()
    if binary is None:
        unavailable("chromium", "not installed; apt-get install -y chromium")
    assert binary is not None
    return binary


def test_console_errors_are_seen(chromium: str, tmp_path: Path) -> None:
    """The check below would catch a broken page (a guard against a vacuous pass)."""
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><script>nope();</script>")
    assert any("nope is not defined" in line for line in browser.load(page).console)


@pytest.mark.parametrize("kind", ["stress", "eval-spec", "eval-concurrency"])
def test_renders_in_chromium(chromium: str, kind: str, tmp_path: Path) -> None:
    page = tmp_path / f"{kind}.html"
    html = reports()[kind]
    page.write_text(html)
    loaded = browser.load(page)
    assert loaded.console == []
    svgs = re.findall(r"<svg[^>]*class=\"chart", loaded.dom)
    assert len(svgs) == 2
    datapoints = len(re.findall(r'class="(point|bar[^"]*)"', loaded.dom))
    assert datapoints == len(re.findall(r'class="(point|bar[^"]*)"', html)) > 5

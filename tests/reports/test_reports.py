"""Reports: one strict Jinja environment, self-contained pages, charts that carry their data,
and a real headless Chromium loading them without a console message."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from service.evals.pricing import PriceModel
from service.evals.spec import recommend
from service.kit.settings import Settings
from service.loadtest.results import summarize
from service.reports import browser
from service.reports.render import (
    ENV,
    eval_concurrency_report,
    eval_spec_report,
    stress_report,
)
from tests.conftest import unavailable


def stress_result(target_rps: float | None = 100.0) -> dict[str, Any]:
    seconds = {
        1000 + t: {
            "count": 95 + t,
            "failures": 1 if t == 3 else 0,
            "hist": {12.5: 50, 20.0: 40 + t, 250.0: 5},
            "errors": {"HTTP 503": 1} if t == 3 else {},
        }
        for t in range(10)
    }
    result = summarize({"first": 1000.0, "last": 1010.0, "seconds": seconds}, target_rps)
    result["users"] = 25
    return result


def spec_result() -> dict[str, Any]:
    price = PriceModel.from_settings(Settings())
    specs = []
    for cpu, memory, ms in [(0.25, 256, 800), (0.5, 1024, 400), (1.0, 2048, 200), (2.0, 4096, 190)]:
        specs.append(
            {
                "cpu": cpu,
                "memorySize": memory,
                "invocations": 20,
                "errors": 0,
                "error_types": {},
                "duration_ms": float(ms),
                "cost_per_invocation": price.cost_per_invocation(cpu, memory, ms),
                "min_ms": ms - 5,
                "p50_ms": ms,
                "max_ms": ms + 30,
                "max_memory_mb": 40.5,
            }
        )
    specs.append({**specs[0], "cpu": 0.05, "memorySize": 128, "duration_ms": None,
                  "cost_per_invocation": None, "errors": 20,
                  "error_types": {"UnhandledInvocationError": 20}})  # fmt: skip
    for key in ("min_ms", "p50_ms", "max_ms", "max_memory_mb"):
        specs[-1].pop(key)
    return {
        "specs": specs,
        "recommendation": recommend(specs, "balanced", 0.5),
        "live": {"cpu": 0.5, "memorySize": 1024, "measured": specs[1]},
        "copy": "burn-eval-abc123",
        "trim": 0.1,
        "invocations": 20,
        "warmup": 2,
        "price_model": price.as_dict(),
        "wall_s": 30.0,
    }


def concurrency_result() -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {"concurrency": c, "requests": 30 * c, "p50_ms": 52.0 * max(1, c / 4),
         "p99_ms": 60.0 * max(1, c / 4), "rps": 19.0 * min(c, 4), "errors": 0,
         "throttles": 0, "error_types": {}}
        for c in (1, 2, 4, 8, 16)
    ]  # fmt: skip
    return {
        "steps": steps,
        "recommendation": {
            "instanceConcurrency": 4,
            "cost_per_10k": 0.0021,
            "p99_ms": 60.0,
            "rps": 76.0,
            "rt_threshold_ms": 100.0,
            "cpu": 1.0,
            "memorySize": 1024,
        },
        "target": "http",
        "duration_s": 10.0,
        "rt_threshold_ms": 100.0,
        "copy": "sleepy-eval-abc123",
        "live": {"cpu": 1.0, "memorySize": 1024, "instanceConcurrency": 1},
        "price_model": {},
        "wall_s": 60.0,
    }


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
    assert marked == {f"{rec['cpu']:g} vCPU/{rec['memorySize']} MB"}
    assert "failed" in html
    assert 'class="recommended"' in html


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

"""The stress result's requested duration vs measured window, and the report header."""

from __future__ import annotations

from service.loadtest.results import window
from service.reports.render import stress_report


def test_a_short_window_explains_start_up_ramp_up_and_warm_up() -> None:
    got = window(20, 18.468, users=10, spawn_rate=2, per_user_rps=5, stop_timeout_s=2)
    assert got["requested_duration_s"] == 20
    assert got["measured_window_s"] == 18.468
    note = got["window_note"]
    assert "1.53 s shorter than the requested 20 s" in note
    assert "before the first request" in note
    assert "one 0.2 s interval" in note  # open loop
    assert "first ~4.5 s ran below full load" in note
    assert note.endswith("separates the warm-up from the steady state, which `headline` reports.")


def test_a_long_window_names_the_stop_timeout_and_a_match_says_so() -> None:
    longer = window(5, 6.2, users=1, spawn_rate=1, per_user_rps=None, stop_timeout_s=2)
    assert "1.2 s longer" in longer["window_note"]
    assert "up to 2 s to finish" in longer["window_note"]
    assert "Ramp-up" not in longer["window_note"]
    same = window(5, 4.98, users=4, spawn_rate=4, per_user_rps=None, stop_timeout_s=2)
    assert same["window_note"].startswith("The measured window matches the requested 5 s.")


def test_report_header_shows_both() -> None:
    result = {
        "requests": 10,
        "failures": {"total": 0, "by_type": {}},
        "achieved_rps": 0.54,
        "duration_s": 18.468,
        "latency_ms": {"p50": 1.0, "p90": 1.0, "p99": 1.0, "p999": 1.0, "max": 1.0},
        "timeline": [{"t": 0, "rps": 10, "p50_ms": 1.0, "p99_ms": 1.0, "failures": 0}],
        "users": 10,
        "target": "invoke",
        **window(20, 18.468, users=10, spawn_rate=10, per_user_rps=None, stop_timeout_s=2),
    }
    html = stress_report("f", {"duration_s": 20, "users": 10, "target": "invoke"}, result)
    assert "requested 20 s · measured window 18.468 s" in html
    assert "1.53 s shorter than the requested 20 s" in html

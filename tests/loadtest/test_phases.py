"""Warm-up vs steady state, cold starts and live figures from per-second buckets, the
stress report with and without phases (results stored before phases existed), and live
figures of a real multi-process Locust run."""

from __future__ import annotations

from typing import Any

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.jobs.headline import headline_of
from service.kit.settings import Settings
from service.loadtest.kind import STRESS
from service.loadtest.live import live_figures
from service.loadtest.phases import SOURCE_LISTED, SOURCE_NONE, SOURCE_UNLISTED, phases
from service.loadtest.results import summarize
from service.loadtest.schemas import StressParams
from service.reports.render import stress_report
from tests.loadtest.support import ECHO_PY, make_ctx, python_config, warm

T0 = 1_000_000  # an epoch second


def _bucket(latencies: dict[float, int], failures: int = 0) -> dict[str, Any]:
    return {
        "count": sum(latencies.values()),
        "failures": failures,
        "hist": dict(latencies),
        "errors": {"HTTP 502": failures} if failures else {},
    }


def _run(instances: dict[str, float]) -> dict[str, Any]:
    """Ten seconds at 10 req/s; the first two seconds carry 1.5 s cold starts."""
    seconds = {T0 + t: _bucket({5.0: 10}) for t in range(10)}
    seconds[T0] = _bucket({5.0: 8, 1500.0: 2})
    seconds[T0 + 1] = _bucket({5.0: 9, 1400.0: 1}, failures=1)
    return {"first": T0 + 0.5, "last": T0 + 9.9, "seconds": seconds, "instances": instances}


def test_cold_starts_end_the_warm_up_and_the_steady_state_is_headlined() -> None:
    merged = _run({"c-old": T0 + 0.6, "c-a": T0 + 0.7, "c-b": T0 + 1.8})
    got = phases(merged, ramp_s=0.0, baseline={"c-old"})
    assert got["cold_starts"] == 2
    assert got["cold_starts_source"] == SOURCE_LISTED
    warm, steady, overall = (got["phases"][k] for k in ("warm_up", "steady", "overall"))
    # The last new instance answered in second 1: steady starts at second 2.
    assert (warm["from_s"], warm["to_s"], steady["from_s"]) == (0.0, 1.5, 1.5)
    assert warm["requests"] == 20
    assert warm["failures"] == 1
    assert warm["p99_ms"] == 1500.0
    assert steady["requests"] == 80
    assert steady["p99_ms"] == 5.0
    assert steady["rps"] == round(80 / 7.9, 2)  # seconds 2 to 9.9
    assert overall["requests"] == 100
    assert overall["p99_ms"] == 1500.0
    assert got["headline"] == {
        "phase": "steady",
        "requests": 80,
        "failures": 0,
        "rps": steady["rps"],
        "p50_ms": 5.0,
        "p99_ms": 5.0,
    }
    # The headline of notifications quotes the steady state.
    result = {**summarize(merged, None), **got}
    assert headline_of("stress", result) == {
        "requests": 100,
        "rps": steady["rps"],
        "p99_ms": 5.0,
        "p99_phase": "steady",
        "failures": 1,
    }


def test_ramp_up_lengthens_the_warm_up_and_half_the_window_caps_it() -> None:
    merged = _run({})
    ramped = phases(merged, ramp_s=3.2, baseline=set())
    assert ramped["phases"]["steady"]["from_s"] == 3.5  # ceil(0.5 + 3.2) = second 4
    assert ramped["cold_starts"] is None
    assert ramped["cold_starts_source"] == SOURCE_NONE
    capped = phases(merged, ramp_s=30.0, baseline=set())
    assert capped["phases"]["steady"]["from_s"] == 4.5  # floor(0.5 + 9.4 / 2) = second 5
    assert "half" in capped["phases_note"]


def test_without_an_instance_listing_every_instance_seen_counts() -> None:
    got = phases(_run({"c-a": T0 + 0.7}), ramp_s=0.0, baseline=None)
    assert got["cold_starts"] == 1
    assert got["cold_starts_source"] == SOURCE_UNLISTED


def test_live_figures_use_the_last_complete_second_across_processes() -> None:
    parts = [
        {
            "first": T0 + 0.5,
            "requests": 30,
            "failures": 1,
            "users": 2,
            "seconds": {str(T0 + 2): _bucket({4.0: 9, 90.0: 1}), str(T0 + 3): _bucket({4.0: 2})},
        },
        {
            "first": T0 + 0.7,
            "requests": 20,
            "failures": 0,
            "users": 3,
            "seconds": {str(T0 + 2): _bucket({6.0: 10})},
        },
    ]
    live = live_figures(parts, now=T0 + 3.4)
    assert live == {
        "requests": 50,
        "failures": 1,
        "current_rps": 20.0,
        "average_rps": round(50 / 2.9, 2),
        "p50_ms": 6.0,  # 20 answers: nine of 4 ms, ten of 6 ms
        "p99_ms": 90.0,
        "users": 5,
        "elapsed_s": 2.9,
    }
    assert live_figures([], now=T0) is None


def test_the_report_headlines_the_steady_state_and_renders_old_results() -> None:
    merged = _run({"c-a": T0 + 0.7})
    result = {
        **summarize(merged, None),
        "users": 2,
        "target": "invoke",
        **phases(merged, ramp_s=0.0, baseline=set()),
    }
    html = stress_report("hello", {"duration_s": 10, "users": 2, "target": "invoke"}, result)
    assert "Warm-up and steady state" in html
    assert "steady p50 / p99 ms" in html
    assert "cold starts" in html
    old = {k: v for k, v in result.items() if k not in ("phases", "headline", "cold_starts")}
    old.pop("cold_starts_source")
    legacy = stress_report("hello", {"duration_s": 10, "users": 2, "target": "invoke"}, old)
    assert "Warm-up and steady state" not in legacy
    assert "p50 / p99 ms" in legacy
    assert headline_of("stress", old) == {
        "requests": 100,
        "rps": old["achieved_rps"],
        "p99_ms": old["latency_ms"]["p99"],
        "p99_phase": "overall",
        "failures": 1,
    }


async def test_live_figures_of_several_locust_processes(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, python_config("echo", ECHO_PY))
    await warm(gateway, access, "echo", instances=4)
    settings = job_settings.model_copy(update={"locust_processes": 2})
    ctx, control = make_ctx(gateway, access, settings, "echo")
    outcome = await STRESS.run(ctx, StressParams(users=4, duration_s=4))
    requests = [live["requests"] for live in control.lives]
    assert len(requests) >= 2, control.lives
    assert requests == sorted(requests)
    assert requests[-1] > requests[0]
    # Both worker processes report; the master (which sends nothing) does not.
    assert control.lives[-1]["users"] == 4
    assert requests[-1] <= outcome.result["requests"]
    # The instances warmed before the run are not cold starts.
    assert outcome.result["cold_starts"] == 0, outcome.result

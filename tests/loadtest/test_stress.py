"""The stress kind against a live emulator, with a real Locust child process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.jobs.contract import JobCancelled
from service.kit.settings import Settings
from service.loadtest.kind import STRESS
from service.loadtest.schemas import StressParams
from tests.loadtest.support import (
    ECHO_PY,
    HTTP_ECHO_PY,
    Control,
    add_http_trigger,
    make_ctx,
    python_config,
    warm,
)


async def test_closed_loop_invoke(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, python_config("echo", ECHO_PY))
    await warm(gateway, access, "echo", instances=4)
    ctx, _ = make_ctx(gateway, access, job_settings, "echo")
    params = StressParams(target="invoke", users=4, duration_s=3, payload={"hello": "world"})
    outcome = await STRESS.run(ctx, params)
    result = outcome.result
    print(json.dumps(result))
    # Closed loop: every user sends again as soon as it has an answer.
    assert result["requests"] > 2 * 4  # users
    assert result["failures"]["total"] == 0, result["failures"]
    # From the first request to the last: within the 3 s asked for (Locust may take a
    # while to get its users going on a busy machine, never longer than asked).
    assert 0 < result["duration_s"] <= 3.5
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p99"] <= result["latency_ms"]["max"]
    assert sum(p["rps"] for p in result["timeline"]) == result["requests"]
    assert "<html" in outcome.reports["locust"].lower()


async def test_http_trigger_signed_with_weighted_payloads(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, python_config("web", HTTP_ECHO_PY))
    url = await add_http_trigger(gateway, access, "web", auth="function")
    await warm(gateway, access, "web", instances=2, payload=b'{"rawPath": "/"}')
    ctx, _ = make_ctx(gateway, access, job_settings, "web", http_trigger_url=url)
    params = StressParams(
        target="http",
        method="PUT",
        path="/items/1?x=a+b",
        headers={"x-custom": "1"},
        users=2,
        duration_s=2,
        payloads=[{"body": "small", "weight": 3}, {"body": {"big": "x" * 1000}, "weight": 1}],
    )
    result = (await STRESS.run(ctx, params)).result
    # authType function: an unsigned or badly signed request would fail with 403.
    assert result["requests"] > 2 * 2  # users: each sent more than once
    assert result["failures"] == {"total": 0, "by_type": {}}


async def test_failures_are_counted_by_type(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    source = "def handler(event, context):\n    raise ValueError(event)\n"
    await gateway.create_function(access, python_config("broken", source))
    ctx, _ = make_ctx(gateway, access, job_settings, "broken")
    result = (await STRESS.run(ctx, StressParams(users=2, duration_s=1))).result
    assert result["requests"] > 0
    assert result["failures"]["total"] == result["requests"]
    assert list(result["failures"]["by_type"]) == ["UnhandledInvocationError (HTTP 200)"]
    assert sum(p["failures"] for p in result["timeline"]) == result["requests"]


async def test_open_loop_holds_the_target_rate(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, python_config("paced", ECHO_PY))
    await warm(gateway, access, "paced", instances=3)
    ctx, _ = make_ctx(gateway, access, job_settings, "paced")
    result = (await STRESS.run(ctx, StressParams(rps=50, duration_s=6))).result
    assert result["target_rps"] == 50
    assert result["achieved_rps"] == pytest.approx(50, rel=0.15), result
    # Paced, not bursty: requests a slow spell held back are caught up on, but
    # the count sent never runs ahead of the schedule (a few of slack for
    # requests landing on either side of a second's boundary).
    sent = 0
    for second in result["timeline"]:
        sent += second["rps"]
        assert sent <= 50 * (second["t"] + 1) + 5, result["timeline"]


async def test_cancel_stops_the_child_quickly(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, python_config("long", ECHO_PY))
    control = Control(cancel_after_progress=0.05)
    ctx, _ = make_ctx(gateway, access, job_settings, "long", control=control)
    started = time.monotonic()
    with pytest.raises(JobCancelled):
        await STRESS.run(ctx, StressParams(users=2, duration_s=60))
    assert time.monotonic() - started < 15
    assert not _locust_children(), "the Locust child (and its workers) must be gone"


def _locust_children() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "fcplane-stress-job-test" in cmdline:
            found.append(cmdline)
    return found


async def test_several_locust_processes(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, python_config("multi", ECHO_PY))
    settings = job_settings.model_copy(update={"locust_processes": 2})
    ctx, _ = make_ctx(gateway, access, settings, "multi")
    result = (await STRESS.run(ctx, StressParams(users=4, duration_s=3))).result
    # Both workers' buckets are merged into one timeline.
    assert result["requests"] > 20
    assert result["failures"]["total"] == 0
    assert sum(p["rps"] for p in result["timeline"]) == result["requests"]


async def test_qualifier_is_sent_and_signed(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, python_config("q", ECHO_PY))
    ctx, _ = make_ctx(gateway, access, job_settings, "q")
    result = (await STRESS.run(ctx, StressParams(users=1, duration_s=1, qualifier="LATEST"))).result
    assert result["requests"] > 0
    assert result["failures"]["total"] == 0, result["failures"]
    ctx, _ = make_ctx(gateway, access, job_settings, "q")
    missing = (await STRESS.run(ctx, StressParams(users=1, duration_s=1, qualifier="nope"))).result
    assert set(missing["failures"]["by_type"]) == {"HTTP 404"}

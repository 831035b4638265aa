"""Concurrency evals of a sleep-bound custom-runtime function on the emulator."""

from __future__ import annotations

import pytest

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.evals.kinds import EVAL_CONCURRENCY
from service.evals.schemas import EvalConcurrencyParams
from service.jobs.contract import JobCancelled
from service.kit.settings import Settings
from tests.fc import zip_b64
from tests.loadtest.support import Control, add_http_trigger, make_ctx

# Sleeps 100 ms per request, at most LIMIT requests at a time (a pool of
# workers, like a database connection pool): throughput rises with
# concurrency up to LIMIT, then requests queue and latency grows instead.
SLEEPY_SERVER = """
import os, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIMIT = threading.BoundedSemaphore(4)

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, *args):
        pass

    def _serve(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with LIMIT:
            time.sleep(0.1)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_PUT = _serve

PORT = int(os.environ["FC_CUSTOM_LISTEN_PORT"])
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
"""


def sleepy_config(name: str) -> dict[str, object]:
    return {
        "functionName": name,
        "runtime": "custom.debian12",
        "handler": "index.handler",
        "memorySize": 1024,
        "cpu": 1.0,
        "timeout": 30,
        "instanceConcurrency": 1,
        "customRuntimeConfig": {
            "command": ["python3"],  # Debian's, inside the sandbox
            "args": ["/code/server.py"],
            "port": 9000,
        },
        "code": {"zipFile": zip_b64({"server.py": SLEEPY_SERVER})},
    }


@pytest.mark.parametrize("target", ["invoke", "http"])
async def test_throughput_rises_until_the_limit(
    target: str, gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, sleepy_config("sleepy"))
    url = await add_http_trigger(gateway, access, "sleepy") if target == "http" else None
    ctx, _ = make_ctx(gateway, access, job_settings, "sleepy", http_trigger_url=url)
    params = EvalConcurrencyParams(
        concurrency=[1, 2, 4, 8],
        duration_s=1.5,
        warmup_s=0.5,
        rt_threshold_ms=150,
        target=target,
    )
    outcome = await EVAL_CONCURRENCY.run(ctx, params)
    result = outcome.result
    steps = {s["concurrency"]: s for s in result["steps"]}
    rps = {c: s["rps"] for c, s in steps.items()}
    assert all(s["errors"] == 0 and s["throttles"] == 0 for s in steps.values()), steps
    # Up to the limit of 4, each concurrent request adds up to 10 requests/s
    # (100 ms each, long next to the emulator's and the client's own time)...
    assert 6 <= rps[1] <= 10.5, rps
    assert rps[2] > 1.6 * rps[1], rps
    assert rps[4] > 1.4 * rps[2], rps
    # ...past it, throughput is capped at 4 / 100 ms and requests wait instead.
    assert rps[8] <= 4 / 0.1 * 1.05, rps
    assert rps[8] < 1.5 * rps[4], rps
    assert steps[8]["p50_ms"] > 150, steps[8]  # one turn waiting, one served
    rec = result["recommendation"]
    # The highest step whose p99 meets the threshold: never past the limit. (On a
    # busy machine one late request can push a lower step's p99 over it too, and
    # when every step misses it there is no recommendation.)
    fitting = [c for c, s in steps.items() if s["p99_ms"] <= params.rt_threshold_ms]
    if not fitting:
        assert rec is None
    else:
        assert rec["instanceConcurrency"] == max(fitting), steps
        # cpu 1 + 1 GB at FC's list prices (the Settings defaults): 1.15 CU per instance-second
        # shared by the step's requests, plus 75 CU per 10,000 calls.
        expected = (1.15 / rec["rps"] + 75 / 10_000) * 10_000 * 0.000020
        assert rec["cost_per_10k"] == pytest.approx(expected), rec
    names = [f["functionName"] for f in await gateway.list_functions(access)]
    assert names == ["sleepy"]


async def test_cancel_removes_the_copy(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    await gateway.create_function(access, sleepy_config("sleepy2"))
    control = Control(cancel_after_progress=0.0)
    ctx, _ = make_ctx(gateway, access, job_settings, "sleepy2", control=control)
    params = EvalConcurrencyParams(concurrency=[1, 2], duration_s=30, rt_threshold_ms=80)
    with pytest.raises(JobCancelled):
        await EVAL_CONCURRENCY.run(ctx, params)
    names = [f["functionName"] for f in await gateway.list_functions(access)]
    assert names == ["sleepy2"]


async def test_standard_runtime_is_refused(
    gateway: FcGateway, access: FcAccess, job_settings: Settings
) -> None:
    from service.kit.errors import InvalidInput
    from tests.loadtest.support import ECHO_PY, python_config

    await gateway.create_function(access, python_config("std", ECHO_PY))
    ctx, _ = make_ctx(gateway, access, job_settings, "std")
    params = EvalConcurrencyParams(concurrency=[1], duration_s=1, rt_threshold_ms=80)
    with pytest.raises(InvalidInput) as exc:
        await EVAL_CONCURRENCY.run(ctx, params)
    assert exc.value.extra["field"] == "function"

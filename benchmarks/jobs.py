"""Stress and eval jobs against an FC emulator running in its own process.

    python benchmarks/jobs.py [--users 16] [--duration 10] [--rates 100 500 2000]
                              [--processes 1] [--screenshots docs]

1. Closed loop: the stress job's achieved requests/s next to a plain
   ``locust --headless`` (FastHttpUser, same users, same duration, same HTTP
   trigger) in the same run. The stress job also signs every request.
2. Open loop: achieved / target requests/s at each rate.
3. Wall time of a 5-spec x 20-invocation spec eval of an echo function.
With --screenshots DIR: runs small real jobs and writes their summary reports
as DIR/report-{stress,eval-spec,eval-concurrency}.png (headless Chromium).
One run each; not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import AK, SK, emulator_process, free_port, stop, wait_http

from service.cloud.access import Credentials, FcAccess
from service.cloud.gateway import FcGateway
from service.evals.kinds import EVAL_CONCURRENCY, EVAL_SPEC
from service.evals.schemas import EvalConcurrencyParams, EvalSpecParams
from service.jobs.contract import JobContext, JobOutcome
from service.kit.settings import Settings
from service.loadtest.kind import STRESS
from service.loadtest.schemas import StressParams
from service.reports import browser
from tests.evals.test_concurrency_eval import sleepy_config
from tests.evals.test_spec_eval import BURN_PY
from tests.loadtest.support import ECHO_PY, HTTP_ECHO_PY, add_http_trigger, python_config

PLAIN_LOCUSTFILE = """
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Plain(FastHttpUser):
    wait_time = constant(0)

    @task
    def post(self):
        self.client.post({path!r}, data=b"hi")
"""


class Control:
    async def progress(
        self, fraction: float, note: str, live: dict[str, Any] | None = None
    ) -> None:
        return None

    async def check_cancelled(self) -> None:
        return None

    async def cancel_requested(self) -> bool:
        return False


def context(access: FcAccess, settings: Settings, function: str, **facts: Any) -> JobContext:
    control = Control()
    return JobContext(
        job_id=f"bench-{function}",
        function=function,
        access=access,
        gateway=FcGateway(),
        settings=settings,
        progress=control.progress,
        check_cancelled=control.check_cancelled,
        cancel_requested=control.cancel_requested,
        facts=facts,
    )


def plain_locust(url: str, users: int, duration: int, processes: int) -> int:
    """Requests completed by a bare `locust --headless` run of ``duration`` seconds."""
    base, _, path = url.partition("/_trigger/")
    with tempfile.TemporaryDirectory() as tmp:
        locustfile = Path(tmp) / "locustfile.py"
        locustfile.write_text(PLAIN_LOCUSTFILE.format(path="/_trigger/" + path))
        argv = [
            sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "--only-summary", "-u", str(users), "-r", str(users), "-t", f"{duration}s",
            "--host", base, "--csv", f"{tmp}/plain", "--loglevel", "WARNING",
            "--exit-code-on-error", "0",
        ]  # fmt: skip
        if processes > 1:
            argv += ["--processes", str(processes)]
        subprocess.run(argv, check=True, capture_output=True, cwd=tmp)
        with open(f"{tmp}/plain_stats.csv") as f:
            row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
        return int(row["Request Count"])


async def benchmark(access: FcAccess, args: argparse.Namespace) -> None:
    gateway = FcGateway()
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), locust_processes=args.processes)
    await gateway.create_function(access, python_config("echo", ECHO_PY, cpu=1.0, memorySize=1024))
    await gateway.create_function(
        access, python_config("web", HTTP_ECHO_PY, cpu=1.0, memorySize=1024)
    )
    url = await add_http_trigger(gateway, access, "web", auth="anonymous")

    if not args.skip_closed:
        print(f"\n1. closed loop, {args.users} users, {args.duration} s, HTTP trigger")
        # Alternated, so warm-up and background load do not favour one side.
        ratios = []
        for _ in range(2):
            plain = plain_locust(url, args.users, args.duration, args.processes)
            stress = await STRESS.run(
                context(access, settings, "web", http_trigger_url=url),
                StressParams(
                    target="http", users=args.users, duration_s=args.duration, payload="hi"
                ),
            )
            done = stress.result["requests"]
            ratios.append(done / plain)
            print(
                f"   plain locust {plain / args.duration:8.1f} req/s   stress job "
                f"{done / args.duration:8.1f} req/s  (requests in the same {args.duration} s run,"
                f" p50 {stress.result['latency_ms']['p50']} ms)  ratio {done / plain:.2f}"
            )
        print(f"   mean ratio {sum(ratios) / len(ratios):.2f}")

    print(f"\n2. open loop, {args.duration} s per rate after 5 s unmeasured, InvokeFunction")
    for rate in args.rates:
        # Unmeasured: the first seconds at a new rate are FC-style cold scaling
        # (new instances, throttles past the account limit), not pacing.
        await STRESS.run(
            context(access, settings, "echo"), StressParams(rps=rate, duration_s=5, payload="hi")
        )
        result = (
            await STRESS.run(
                context(access, settings, "echo"),
                StressParams(rps=rate, duration_s=args.duration, payload="hi"),
            )
        ).result
        ratio = result["achieved_rps"] / rate
        print(
            f"   target {rate:6g}  achieved {result['achieved_rps']:8.1f}  ratio {ratio:.3f}"
            f"  users {result['users']}  p99 {result['latency_ms']['p99']} ms"
            f"  failures {result['failures']['total']}"
        )
        if result["failures"]["total"]:
            print(f"      failures by type: {result['failures']['by_type']}")
        if args.timeline:
            print("      per second:", [p["rps"] for p in result["timeline"]])

    print("\n3. spec eval, 5 specs x 20 invocations (2 warm-up each), echo function")
    specs = [
        {"cpu": 0.25, "memorySize": 512},
        {"cpu": 0.5, "memorySize": 1024},
        {"cpu": 1.0, "memorySize": 2048},
        {"cpu": 2.0, "memorySize": 4096},
        {"cpu": 4.0, "memorySize": 8192},
    ]
    started = time.monotonic()
    outcome = await EVAL_SPEC.run(
        context(access, settings, "echo"),
        EvalSpecParams.model_validate({"specs": specs, "invocations": 20, "payload": "hi"}),
    )
    print(f"   wall time {time.monotonic() - started:.2f} s")
    for spec in outcome.result["specs"]:
        print(f"   {spec['cpu']:>4g} vCPU {spec['memorySize']:>5} MB  {spec['duration_ms']} ms")


async def screenshots(access: FcAccess, out: Path) -> None:
    gateway = FcGateway()
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    await gateway.create_function(access, python_config("checkout", ECHO_PY))
    await gateway.create_function(
        access, python_config("resize", BURN_PY, cpu=0.5, memorySize=1024)
    )
    await gateway.create_function(access, sleepy_config("orders-api"))
    outcomes: dict[str, JobOutcome] = {
        "stress": await STRESS.run(
            context(access, settings, "checkout"),
            StressParams(rps=150, duration_s=20, payload={"sku": "A-1"}),
        ),
        "eval-spec": await EVAL_SPEC.run(
            context(access, settings, "resize"),
            EvalSpecParams.model_validate(
                {
                    "specs": [
                        {"cpu": 0.25, "memorySize": 512},
                        {"cpu": 0.5, "memorySize": 1024},
                        {"cpu": 1.0, "memorySize": 2048},
                        {"cpu": 1.0, "memorySize": 4096},
                    ],
                    "invocations": 6,
                    "warmup": 1,
                    "payload": "3000000",
                    "strategy": "balanced",
                }
            ),
        ),
        "eval-concurrency": await EVAL_CONCURRENCY.run(
            context(access, settings, "orders-api"),
            EvalConcurrencyParams(
                concurrency=[1, 2, 3, 4, 6, 8], duration_s=5, rt_threshold_ms=150
            ),
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind, outcome in outcomes.items():
            page = Path(tmp) / f"{kind}.html"
            page.write_text(outcome.reports["summary"])
            loaded = browser.load(page)
            if loaded.console:
                raise RuntimeError(f"{kind}: console messages {loaded.console}")
            browser.load(page, screenshot=out / f"report-{kind}.png", height=1250)
            print(f"   wrote {out / f'report-{kind}.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run")
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--processes", type=int, default=1, help="Locust processes (both runs)")
    parser.add_argument("--timeline", action="store_true", help="print open-loop req/s per second")
    parser.add_argument(
        "--skip-closed", action="store_true", help="skip the closed-loop comparison"
    )
    parser.add_argument("--screenshots", type=Path, help="write report screenshots here only")
    args = parser.parse_args()

    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        emulator = emulator_process(port, data_dir, "--log-level", "warning")
        try:
            wait_http(f"http://127.0.0.1:{port}/_emulator/health", emulator)
            access = FcAccess(
                "bench", "1234567890", "cn-hangzhou", f"http://127.0.0.1:{port}",
                Credentials(AK, SK, None),
            )  # fmt: skip
            if args.screenshots:
                asyncio.run(screenshots(access, args.screenshots))
            else:
                print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()}")
                asyncio.run(benchmark(access, args))
        finally:
            stop(emulator)


if __name__ == "__main__":
    main()

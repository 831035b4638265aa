"""Live progress overhead: a stress job watched live vs a plain Locust run.

    python benchmarks/live_progress.py [--users 16] [--duration 10] [--rounds 3]
                                       [--database sqlite|postgresql]

fcplane (uvicorn, jobs run in the API process) and the FC emulator each in their own
process. Each round, alternated so that background load favours neither side:

- plain: ``locust --headless`` (FastHttpUser, no fcplane) against the function's HTTP
  trigger, ``--users`` users for ``--duration`` seconds;
- job: the same load as a stress job submitted through the API, while a client polls
  GET /v1/jobs/{id} every second and another follows GET /v1/jobs/{id}/events: Locust's
  live files are written every second, read and stored (about one write a second),
  and served to both watchers.

Reports both req/s (requests over the run time), their ratio per round, the medians,
and how many distinct live snapshots the watchers saw. On a shared machine the rounds
swing more than the overhead, so it also times the live machinery itself, once per
second of a run: a Locust process writing its live file (``json.dumps`` and an atomic
replace, as locust_users does) and the job reading and merging those files
(service.loadtest.live), with realistic latency histograms. One run; not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import add_account, code_zip, create_function, fc_client, fcplane_stack, upload_code
from alibabacloud_fc20230330 import models as fc_models
from jobs import plain_locust

from service.loadtest.live import live_figures, read_parts
from service.loadtest.plan import latency_bucket

HTTP_ECHO_PY = """
def handler(event, context):
    return {"statusCode": 200, "body": "hi"}
"""
CONFIG = {"runtime": "python3.10", "handler": "index.handler", "memorySize": 1024, "cpu": 1.0}


def http_trigger(endpoint: str, function: str) -> str:
    """An anonymous HTTP trigger, created straight on FC (fcplane reads it as a fact)."""
    request = fc_models.CreateTriggerRequest(
        body=fc_models.CreateTriggerInput(
            trigger_name="http",
            trigger_type="http",
            trigger_config=json.dumps({"authType": "anonymous", "methods": ["GET", "POST"]}),
        )
    )
    response = fc_client(endpoint).create_trigger(function, request)
    url: str = response.body.http_trigger.url_internet
    return url


async def watched_job(
    api: httpx.AsyncClient, users: int, duration: int
) -> tuple[dict[str, Any], int, int]:
    """Run one stress job while two clients watch it: its result, and the distinct live
    snapshots seen by polling and by the event stream."""
    created = await api.post(
        "/v1/jobs",
        json={
            "kind": "stress",
            "function": "web",
            "params": {"target": "http", "users": users, "duration_s": duration, "payload": "hi"},
        },
    )
    created.raise_for_status()
    job_id = created.json()["id"]
    streamed: list[str] = []

    async def follow() -> None:
        async with api.stream("GET", f"/v1/jobs/{job_id}/events", timeout=None) as events:
            async for line in events.aiter_lines():
                if line.startswith("event: progress"):
                    streamed.append(line)

    follower = asyncio.create_task(follow())
    polled: list[Any] = []
    while True:
        job = (await api.get(f"/v1/jobs/{job_id}")).json()
        if job["live"] and job["live"] not in polled:
            polled.append(job["live"])
        if job["status"] not in ("queued", "running"):
            break
        await asyncio.sleep(1.0)
    await asyncio.wait_for(follower, 30)
    if job["status"] != "succeeded":
        raise RuntimeError(f"stress job {job['status']}: {job['error']}")
    return job["result"], len(polled), len(streamed)


def live_file(now: int, per_second: int) -> dict[str, Any]:
    """A live file as a Locust process writes it: totals and its last three buckets."""
    seconds = {}
    for t in range(now - 3, now + 1):
        hist: dict[str, int] = {}
        for _ in range(per_second):
            key = str(latency_bucket(random.lognormvariate(2.5, 0.6)))
            hist[key] = hist.get(key, 0) + 1
        seconds[str(t)] = {"count": per_second, "failures": 0, "hist": hist, "errors": {}}
    return {"at": now, "first": now - 30, "requests": 30 * per_second, "failures": 0,
            "users": 16, "seconds": seconds}  # fmt: skip


def machinery_cost(processes: int, per_second: int, repeat: int = 200) -> tuple[float, float]:
    """Milliseconds per second of run: one process writing its live file, and the job
    reading and merging ``processes`` of them."""
    now = int(time.time())
    with tempfile.TemporaryDirectory() as tmp:
        data = live_file(now, per_second)
        path = Path(tmp) / "live-1.json"
        started = time.perf_counter()
        for _ in range(repeat):
            part = path.with_suffix(".tmp")
            part.write_text(json.dumps(data))
            part.replace(path)
        write_ms = (time.perf_counter() - started) / repeat * 1000
        for i in range(2, processes + 1):
            (Path(tmp) / f"live-{i}.json").write_text(json.dumps(live_file(now, per_second)))
        started = time.perf_counter()
        for _ in range(repeat):
            live_figures(read_parts(Path(tmp)), now + 0.5)
        read_ms = (time.perf_counter() - started) / repeat * 1000
    return write_ms, read_ms


async def benchmark(args: argparse.Namespace) -> None:
    with fcplane_stack(args.database) as stack:
        headers = {"Authorization": f"Bearer {stack.token}"}
        async with httpx.AsyncClient(base_url=stack.api, headers=headers, timeout=60) as api:
            await add_account(api, stack.emulator)
            sha = await upload_code(api, code_zip(HTTP_ECHO_PY))
            await create_function(api, "web", CONFIG, sha)
            url = http_trigger(stack.emulator, "web")
            print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()}")
            print(f"{args.users} users, {args.duration} s, HTTP trigger, {args.rounds} rounds")
            plains, jobs, ratios = [], [], []
            for round_ in range(1, args.rounds + 1):
                plain = plain_locust(url, args.users, args.duration, 1) / args.duration
                started = time.monotonic()
                result, polled, streamed = await watched_job(api, args.users, args.duration)
                wall = time.monotonic() - started
                job = result["requests"] / args.duration
                plains.append(plain)
                jobs.append(job)
                ratios.append(job / plain)
                print(
                    f"  round {round_}: plain locust {plain:8.1f} req/s   watched stress job "
                    f"{job:8.1f} req/s   ratio {job / plain:.3f}   live snapshots: polled "
                    f"{polled}, streamed {streamed}   job wall {wall:.1f} s"
                )
            print(
                f"median: plain {statistics.median(plains):.1f} req/s, job "
                f"{statistics.median(jobs):.1f} req/s, ratio {statistics.median(ratios):.3f}"
            )
    print("live machinery, per second of a run (CPU time of one core):")
    for rps in (1000, 10000):
        for processes in (1, 2):
            write_ms, read_ms = machinery_cost(processes, rps // processes)
            print(
                f"  {rps:>6} req/s over {processes} Locust process(es): write {write_ms:.3f} ms "
                f"per process, read+merge {read_ms:.3f} ms  ({(write_ms + read_ms) / 10:.4f}% "
                "of a core)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    asyncio.run(benchmark(parser.parse_args()))


if __name__ == "__main__":
    main()

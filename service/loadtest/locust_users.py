"""Locust-side code of a stress job: imported only by the Locust child process.

Never import this module from the asyncio process: importing locust applies
gevent's monkey-patching, which breaks asyncio. The generated locustfile calls
:func:`build_user` with the path of the job's plan (JSON, no secrets; the
signing key arrives in environment variables).

Each Locust process (one, or each worker with ``--processes``) keeps its own
per-second buckets of latencies and failure types and writes them as
``timeline-<pid>.json`` when the test stops; the parent merges them. While the
test runs, every process also rewrites ``live-<pid>.json`` each second (its
totals, user count and its last few buckets): the parent reads those for the
job's live progress. Instances are told apart by FC's ``x-fc-instance-id``
response header, for the cold-start count.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, cast

import gevent  # type: ignore[import-untyped]
from locust import events
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import MasterRunner

from service.loadtest.plan import KEY_ENV, Plan, latency_bucket
from service.loadtest.signing import SigningKey, sign

MAX_BACKLOG_S = 1.0
LIVE_INTERVAL_S = 1.0
LIVE_SECONDS_KEPT = 3  # buckets per live file: enough for the last complete second


class _Recorder:
    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.buckets: dict[int, dict[str, Any]] = defaultdict(
            lambda: {"count": 0, "failures": 0, "hist": Counter(), "errors": Counter()}
        )
        self.first: float | None = None
        self.last: float | None = None
        self.requests = 0
        self.failures = 0
        # Instance id -> when it first answered (the cold-start count and timing).
        self.instances: dict[str, float] = {}

    def record(self, response_time: float, failure: str | None, instance: str | None) -> None:
        now = time.time()
        self.requests += 1
        if instance and instance not in self.instances:
            self.instances[instance] = now
        started = now - response_time / 1000
        self.first = started if self.first is None else min(self.first, started)
        self.last = now if self.last is None else max(self.last, now)
        bucket = self.buckets[int(now)]
        bucket["count"] += 1
        bucket["hist"][latency_bucket(response_time)] += 1
        if failure is not None:
            self.failures += 1
            bucket["failures"] += 1
            bucket["errors"][failure] += 1

    def _seconds(self, since: int | None = None) -> dict[str, Any]:
        return {
            str(t): {**b, "hist": {str(k): v for k, v in b["hist"].items()}}
            for t, b in list(self.buckets.items())
            if since is None or t >= since
        }

    def write(self) -> None:
        if self.first is None:
            return
        data = {
            "first": self.first,
            "last": self.last,
            "seconds": self._seconds(),
            "instances": self.instances,
        }
        _write_json(self.out_dir / f"timeline-{os.getpid()}.json", data)

    def write_live(self, users: int) -> None:
        data = {
            "at": time.time(),
            "first": self.first,
            "requests": self.requests,
            "failures": self.failures,
            "users": users,
            "seconds": self._seconds(int(time.time()) - LIVE_SECONDS_KEPT),
        }
        _write_json(self.out_dir / f"live-{os.getpid()}.json", data)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)  # atomic: the parent never reads half a file


def _failure_type(exception: BaseException | None) -> str | None:
    if exception is None:
        return None
    text = str(exception)
    # response.failure("HTTP 503") arrives wrapped in CatchResponseError.
    if type(exception).__name__ == "CatchResponseError" and text:
        return text
    return type(exception).__name__


def build_user(plan_path: str) -> type[FastHttpUser]:
    plan = Plan.model_validate_json(Path(plan_path).read_text())
    recorder = _Recorder(Path(plan_path).parent)

    def on_request(
        response_time: float,
        exception: BaseException | None = None,
        response: Any = None,
        **_: Any,
    ) -> None:
        headers = getattr(response, "headers", None)
        instance = headers.get("x-fc-instance-id") if headers else None
        recorder.record(response_time, _failure_type(exception), instance)

    def on_stop(**_: Any) -> None:
        recorder.write()

    def live_loop(environment: Any) -> None:
        while True:
            gevent.sleep(LIVE_INTERVAL_S)
            runner = environment.runner
            recorder.write_live(runner.user_count if runner is not None else 0)

    def on_init(environment: Any, **_: Any) -> None:
        # A --processes master sends nothing itself; its workers report.
        if not isinstance(environment.runner, MasterRunner):
            gevent.spawn(live_loop, environment)

    hooks: Any = events  # locust's EventHook.add_listener is not annotated
    hooks.request.add_listener(on_request)
    hooks.test_stop.add_listener(on_stop)
    hooks.quitting.add_listener(on_stop)
    hooks.init.add_listener(on_init)

    raw_key = os.environ.get(KEY_ENV)
    key = SigningKey(*json.loads(raw_key)) if raw_key else None
    bodies = [p.encoded() for p in plan.payloads]
    weights = [p.weight for p in plan.payloads]
    target = plan.url
    split = target.split("/", 3)
    host, path = "/".join(split[:3]), "/" + (split[3] if len(split) > 3 else "")

    interval = 1 / plan.per_user_rps if plan.per_user_rps else None

    class FcplaneUser(FastHttpUser):
        next_at = 0.0
        abstract = False
        # The job's per-request timeout (Locust's default would be 60 s).
        network_timeout = plan.timeout_s
        connection_timeout = plan.timeout_s

        def wait_time(self) -> float:
            if interval is None:
                return 0.0
            # A fixed schedule per user (not "interval after the last request"):
            # a request that ran long is caught up on, up to MAX_BACKLOG_S late,
            # so the rate holds across slow spells such as cold starts.
            now = time.monotonic()
            self.next_at = max(self.next_at + interval, now - MAX_BACKLOG_S)
            return max(0.0, self.next_at - now)

        def on_start(self) -> None:
            # Spread users over one interval so an open loop is not a train of
            # synchronized bursts.
            self.next_at = time.monotonic() + random.uniform(0, interval or 0)
            if interval is not None:
                time.sleep(max(0.0, self.next_at - time.monotonic()))  # gevent-patched

        def _send(self) -> None:
            body = random.choices(bodies, weights)[0] if len(bodies) > 1 else bodies[0]
            headers = dict(plan.headers)
            if key is not None and plan.sign:
                headers = sign(plan.method, target, body, key, headers, action=plan.action)
            with self.client.request(
                plan.method,
                path,
                data=cast(Any, body),
                headers=headers,
                name=plan.name,
                catch_response=True,
            ) as response:
                error_type = response.headers.get("x-fc-error-type") if response.headers else None
                if not response.status_code:
                    error = response.error
                    response.failure(type(error).__name__ if error else "ConnectionError")
                elif error_type:
                    response.failure(f"{error_type} (HTTP {response.status_code})")
                elif response.status_code >= 400:
                    response.failure(f"HTTP {response.status_code}")

        tasks = [_send]  # noqa: RUF012 - Locust's own class attribute

    FcplaneUser.host = host
    return FcplaneUser

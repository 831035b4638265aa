"""Webhook delivery throughput, and what emitting costs the request that emits.

1. Throughput: a backlog of E events over F functions for one standard
   (signed) subscription is drained by one in-process Dispatcher (`pump`, as
   the embedded dispatcher and the arq job run it) into a fast receiver
   (uvicorn, separate process, answers 200 at once). Reported: delivered
   events per second, from the dispatcher's start until nothing is pending.
2. Emit cost: wall time of one unit of work (session.begin() ... commit) that
   calls emit() once, measured N times in a row (2 ms apart, 20 warm-up
   emits left out), with
   - no subscription (the dispatcher idle in the same loop),
   - 5 active subscriptions, a fast receiver, the dispatcher in another
     process (production: the arq worker),
   - the same with the dispatcher in the same process and event loop (the
     embedded `fcplane serve`), where it competes for the one loop's CPU,
   - 5 active subscriptions, a receiver that takes 2 s to answer, dispatcher
     in the same loop.
   Delivery is asynchronous, so the receiver should not show in these numbers;
   the 5 extra delivery rows should cost little.
3. Deploy request latency: one real `fcplane serve` (SQLite, embedded emulator,
   dispatcher in the API's own event loop: the embedded default, where
   delivery competes most with requests). Deploys alternate between two
   functions, one watched by 5 `deploy.succeeded` subscriptions (fast
   receiver), one by none, so both see the same machine; p50/p99 of the
   POST /v1/accounts/local/functions/{name}/deployments round trip for each.

    python benchmarks/webhooks.py [--database sqlite|postgresql|both] [--events 3000]
                                  [--deploys 150] [--part all|delivery|deploys]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from _common import (
    FUNCTIONS,
    ROOT,
    code_zip,
    create_function,
    free_port,
    new_database,
    stop,
    upload_code,
    uvicorn_process,
    wait_http,
)
from sqlalchemy import func, select

sys.path.insert(0, str(ROOT))

from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.migrations import upgrade
from service.kit.settings import Settings
from service.models import WebhookDelivery
from service.models.function import FunctionRef
from service.webhooks.dispatcher import BackgroundDispatcher, Dispatcher
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType, WebhookCreate
from service.webhooks.service import WebhookService
from service.webhooks.transport import new_client

RECEIVER = """
import asyncio, os
DELAY = float(os.environ.get("RECEIVER_DELAY", "0"))
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if DELAY:
        await asyncio.sleep(DELAY)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""
KEY = os.environ.get("BENCH_KEY") or secrets.token_urlsafe(32)
BOX = SecretBox(KEY)


@contextmanager
def receiver(delay: float = 0.0) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "recv.py").write_text(RECEIVER)
        port = free_port()
        proc = uvicorn_process(
            *("recv:app", "--app-dir", tmp, "--lifespan", "off"),
            port=port,
            env={**os.environ, "RECEIVER_DELAY": str(delay)},
        )
        url = f"http://127.0.0.1:{port}/hook"
        try:
            wait_http(url, proc)
            yield url
        finally:
            stop(proc)


@contextmanager
def database(kind: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp, new_database(kind, tmp) as url:
        upgrade(url)
        yield url


def settings_for(url: str, **extra: object) -> Settings:
    return Settings(
        database_url=url,
        webhook_allowed_hosts=["127.0.0.1"],
        webhook_poll_seconds=0.05,
        **extra,  # type: ignore[arg-type]
    )


async def subscribe(db: Database, settings: Settings, url: str) -> None:
    await WebhookService(db, BOX, settings).create(
        WebhookCreate(url=url, events=[EventType.DEPLOY_SUCCEEDED]), "bench"
    )


async def throughput(url: str, target: str, events: int, functions: int, concurrency: int) -> float:
    settings = settings_for(url, webhook_concurrency=concurrency)
    db = Database.connect(url)
    try:
        await subscribe(db, settings, target)
        per_tx = 50
        for start in range(0, events, per_tx):
            async with db.write() as session:
                for n in range(start, min(start + per_tx, events)):
                    ref = FunctionRef("bench", f"fn{n % functions}")
                    await emit(session, EventType.DEPLOY_SUCCEEDED, ref, {"n": n})
        async with new_client() as client:
            dispatcher = Dispatcher(settings, db, BOX, client)
            started = time.perf_counter()
            await dispatcher.pump(asyncio.Event(), 0.05, lambda: False, until_idle=True)
            elapsed = time.perf_counter() - started
        async with db.read() as session:
            done = await session.scalar(
                select(func.count()).where(WebhookDelivery.status == "delivered")
            )
        assert done == events, (done, events)
        return events / elapsed
    finally:
        await db.dispose()


async def emit_latency(
    url: str, target: str | None, n: int, dispatcher: str
) -> tuple[float, float, int]:
    """p50 and p99 (ms) of a unit of work that emits one event, and how many
    deliveries were done when the emits were."""
    settings = settings_for(url)
    db = Database.connect(url)
    timings: list[float] = []
    child: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(5 if target else 0):
            assert target is not None
            await subscribe(db, settings, target)
        if dispatcher == "process":
            child = subprocess.Popen(
                [sys.executable, __file__, "--dispatch", url],
                env={**os.environ, "BENCH_KEY": KEY},
                stdout=subprocess.PIPE,
            )
            assert child.stdout is not None
            await asyncio.to_thread(child.stdout.readline)  # "ready"
        async with new_client() as client:
            runner = BackgroundDispatcher(Dispatcher(settings, db, BOX, client), 0.05)
            if dispatcher == "inline":
                runner.start()
            try:
                for i in range(n + 20):
                    started = time.perf_counter()
                    async with db.write() as session:
                        ref = FunctionRef("bench", f"fn{i % 10}")
                        await emit(session, EventType.DEPLOY_SUCCEEDED, ref, {"n": i})
                    if i >= 20:  # warm-up excluded
                        timings.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(0.002)  # between requests
            finally:
                if dispatcher == "inline":
                    await runner.stop()
        async with db.read() as session:
            delivered = await session.scalar(
                select(func.count()).where(WebhookDelivery.status == "delivered")
            )
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=10)
        await db.dispose()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], int(delivered or 0)


async def dispatch_forever(url: str) -> None:
    """The child process of the `process` mode: a dispatcher as a worker runs it."""
    settings = settings_for(url)
    async with new_client() as client:
        dispatcher = Dispatcher(settings, Database.connect(url), BOX, client)
        await dispatcher.run_once()
        print("ready", flush=True)
        await dispatcher.pump(asyncio.Event(), 0.02, lambda: False)


def _config(timeout: int) -> dict[str, object]:
    return {"runtime": "python3.10", "handler": "index.handler", "timeout": timeout}


async def deploy_latency(api: str, token: str, hook: str, deploys: int) -> dict[str, list[float]]:
    """Deploy round trips (ms) per function: `watched` has 5 subscriptions, `plain` none.

    The functions live in the account `local`: `fcplane serve` registers its
    embedded emulator as the default account under that name (FUNCTIONS)."""
    headers = {"Authorization": f"Bearer {token}"}
    timings: dict[str, list[float]] = {"plain": [], "watched": []}
    async with httpx.AsyncClient(base_url=api, headers=headers, timeout=60) as client:
        sha = await upload_code(client, code_zip())
        for _ in range(5):
            created = await client.post(
                "/v1/webhooks",
                json={"url": hook, "events": ["deploy.succeeded"], "functions": ["watched"]},
            )
            created.raise_for_status()
        head = {name: await create_function(client, name, _config(3), sha) for name in timings}
        for i in range(deploys + 10):
            order = ["plain", "watched"] if i % 2 else ["watched", "plain"]  # no order bias
            for name in order:
                samples = timings[name]
                started = time.perf_counter()
                response = await client.post(
                    f"{FUNCTIONS}/{name}/deployments",
                    json={"config": _config(4 + i % 2), "base_revision": head[name]},
                )
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                head[name] = response.json()["to_revision"]
                if i >= 10:  # warm-up excluded
                    samples.append(elapsed)
                await asyncio.sleep(0.005)
        # Delivery keeps up: every watched deploy's notification arrives.
        expected = 1 + deploys + 10
        ids = [item["id"] for item in (await client.get("/v1/webhooks")).json()["items"]]
        deadline = time.monotonic() + 60
        while True:
            delivered = 0
            for hook_id in ids:
                page = await client.get(f"/v1/webhooks/{hook_id}/deliveries?limit=200")
                delivered += sum(d["status"] == "delivered" for d in page.json()["items"])
            if delivered >= 5 * expected or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        print(f"notifications delivered: {delivered} of {5 * expected}")
    return timings


def serve_and_measure_deploys(hook: str, deploys: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port, emulator_port = free_port(), free_port()
        token = "fcp_" + secrets.token_urlsafe(32)
        env = {
            **os.environ,
            "FCPLANE_DATA_DIR": tmp,
            "FCPLANE_SECRET_KEY": secrets.token_urlsafe(32),
            "FCPLANE_BOOTSTRAP_TOKEN": token,
            "FCPLANE_LOG_LEVEL": "warning",
            "FCPLANE_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS": "0",
        }
        env.pop("FCPLANE_REDIS_URL", None)
        command = [sys.executable, "-m", "service", "serve", "--port", str(port)]
        command += ["--emulator-port", str(emulator_port)]
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        api = f"http://127.0.0.1:{port}"
        try:
            wait_http(f"{api}/readyz", proc, ready=True)
            timings = asyncio.run(deploy_latency(api, token, hook, deploys))
        finally:
            stop(proc)
    for name, label in (("plain", "no subscription"), ("watched", "5 subscriptions")):
        samples = sorted(timings[name])
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(
            f"deploy request, {label:16s} p50 {statistics.median(samples):6.2f} ms  "
            f"p99 {p99:6.2f} ms  ({len(samples)} deploys)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--functions", type=int, default=100)
    parser.add_argument("--emits", type=int, default=300)
    parser.add_argument(
        "--deploys",
        type=int,
        default=150,
        choices=range(1, 190),
        metavar="1..189",
        help="Deploys per function in part 3.",
    )
    parser.add_argument("--part", choices=["all", "delivery", "deploys"], default="all")
    parser.add_argument("--dispatch", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dispatch:
        asyncio.run(dispatch_forever(args.dispatch))
        return
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with receiver() as fast, receiver(delay=2.0) as slow:
        for kind in kinds if args.part != "deploys" else []:
            print(f"\n== {kind} ==")
            for concurrency in (16, 64):
                with database(kind) as url:
                    rate = asyncio.run(
                        throughput(url, fast, args.events, args.functions, concurrency)
                    )
                print(
                    f"throughput: {rate:8.0f} events/s delivered ({args.events} events, "
                    f"{args.functions} functions, 1 signed subscription, concurrency {concurrency})"
                )
            for label, target, mode in (
                ("no subscription", None, "inline"),
                ("5 subs, fast receiver, dispatcher in another process", fast, "process"),
                ("5 subs, fast receiver, dispatcher in the same loop", fast, "inline"),
                ("5 subs, receiver takes 2 s, dispatcher in the same loop", slow, "inline"),
            ):
                with database(kind) as url:
                    p50, p99, done = asyncio.run(emit_latency(url, target, args.emits, mode))
                print(
                    f"emit() unit of work, {label:56s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                    f"({done} deliveries done by then)"
                )
        if args.part != "delivery":
            print("\n== deploy requests (fcplane serve, SQLite, embedded emulator) ==")
            serve_and_measure_deploys(fast, args.deploys)


if __name__ == "__main__":
    main()

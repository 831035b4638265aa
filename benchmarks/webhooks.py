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

    python benchmarks/webhooks.py [--database sqlite|postgresql|both] [--events 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.kit.crypto import SecretBox  # noqa: E402
from service.kit.db import create_engine, create_sessionmaker  # noqa: E402
from service.kit.migrations import upgrade  # noqa: E402
from service.kit.settings import Settings  # noqa: E402
from service.models import WebhookDelivery  # noqa: E402
from service.webhooks.dispatcher import BackgroundDispatcher, Dispatcher  # noqa: E402
from service.webhooks.outbox import emit  # noqa: E402
from service.webhooks.schemas import EventType, WebhookCreate  # noqa: E402
from service.webhooks.service import WebhookService  # noqa: E402
from service.webhooks.transport import new_client  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def receiver(delay: float = 0.0) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "recv.py").write_text(RECEIVER)
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "recv:app",
                "--app-dir",
                tmp,
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--lifespan",
                "off",
            ],
            env={**os.environ, "RECEIVER_DELAY": str(delay)},
        )
        url = f"http://127.0.0.1:{port}/hook"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.post(url, timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@contextmanager
def database(kind: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
            return
        import asyncpg

        name = f"fcplane_bench_{secrets.token_hex(4)}"

        async def admin(sql: str) -> None:
            conn = await asyncpg.connect(PG_ADMIN)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        try:
            upgrade(url)
            yield url
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def settings_for(url: str, **extra: object) -> Settings:
    return Settings(
        database_url=url,
        webhook_allowed_hosts=["127.0.0.1"],
        webhook_poll_seconds=0.05,
        **extra,  # type: ignore[arg-type]
    )


async def subscribe(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, url: str
) -> None:
    async with sessions.begin() as session:
        await WebhookService(session, BOX, settings).create(
            WebhookCreate(url=url, events=[EventType.DEPLOY_SUCCEEDED]), "bench"
        )


async def throughput(url: str, target: str, events: int, functions: int, concurrency: int) -> float:
    settings = settings_for(url, webhook_concurrency=concurrency)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        await subscribe(sessions, settings, target)
        per_tx = 50
        for start in range(0, events, per_tx):
            async with sessions.begin() as session:
                for n in range(start, min(start + per_tx, events)):
                    await emit(session, EventType.DEPLOY_SUCCEEDED, f"fn{n % functions}", {"n": n})
        async with new_client() as client:
            dispatcher = Dispatcher(settings, sessions, BOX, client)
            started = time.perf_counter()
            await dispatcher.pump(asyncio.Event(), 0.05, lambda: False, until_idle=True)
            elapsed = time.perf_counter() - started
        async with sessions() as session:
            done = await session.scalar(
                select(func.count()).where(WebhookDelivery.status == "delivered")
            )
        assert done == events, (done, events)
        return events / elapsed
    finally:
        await engine.dispose()


async def emit_latency(
    url: str, target: str | None, n: int, dispatcher: str
) -> tuple[float, float, int]:
    """p50 and p99 (ms) of a unit of work that emits one event, and how many
    deliveries were done when the emits were."""
    settings = settings_for(url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    timings: list[float] = []
    child: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(5 if target else 0):
            assert target is not None
            await subscribe(sessions, settings, target)
        if dispatcher == "process":
            child = subprocess.Popen(
                [sys.executable, __file__, "--dispatch", url],
                env={**os.environ, "BENCH_KEY": KEY},
                stdout=subprocess.PIPE,
            )
            assert child.stdout is not None
            await asyncio.to_thread(child.stdout.readline)  # "ready"
        async with new_client() as client:
            runner = BackgroundDispatcher(Dispatcher(settings, sessions, BOX, client), 0.05)
            if dispatcher == "inline":
                runner.start()
            try:
                for i in range(n + 20):
                    started = time.perf_counter()
                    async with sessions.begin() as session:
                        await emit(session, EventType.DEPLOY_SUCCEEDED, f"fn{i % 10}", {"n": i})
                    if i >= 20:  # warm-up excluded
                        timings.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(0.002)  # between requests
            finally:
                if dispatcher == "inline":
                    await runner.stop()
        async with sessions() as session:
            delivered = await session.scalar(
                select(func.count()).where(WebhookDelivery.status == "delivered")
            )
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=10)
        await engine.dispose()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], int(delivered or 0)


async def dispatch_forever(url: str) -> None:
    """The child process of the `process` mode: a dispatcher as a worker runs it."""
    settings = settings_for(url)
    engine = create_engine(url)
    async with new_client() as client:
        dispatcher = Dispatcher(settings, create_sessionmaker(engine), BOX, client)
        await dispatcher.run_once()
        print("ready", flush=True)
        await dispatcher.pump(asyncio.Event(), 0.02, lambda: False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--functions", type=int, default=100)
    parser.add_argument("--emits", type=int, default=300)
    parser.add_argument("--dispatch", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dispatch:
        asyncio.run(dispatch_forever(args.dispatch))
        return
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with receiver() as fast, receiver(delay=2.0) as slow:
        for kind in kinds:
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


if __name__ == "__main__":
    main()

"""Plan, deploy and drift-scan cost next to the raw SDK calls they wrap, against the emulator.

fcplane (uvicorn, on SQLite and/or PostgreSQL) and the FC emulator each run in
their own process; the load comes from one asyncio client process. Figures:
p50/p99 latency and throughput at 1 and 16 concurrent clients (medians of
interleaved rounds), plan's p50 overhead over the raw GetFunction it wraps (1
client), deploy throughput at 16 clients against raw UpdateFunction+GetFunction,
and a drift scan of N functions vs N raw GetFunction calls at the same concurrency.

    python benchmarks/deploys.py [--database sqlite|postgresql|both] [--requests 200]
                                 [--rounds 3] [--functions 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from alibabacloud_fc20230330 import models as fc
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
AK, SK = "bench-ak", "bench-secret-0123456789"
CONFIG = {"runtime": "python3.10", "handler": "index.handler", "memorySize": 512, "cpu": 0.35}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def wait_http(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def measure(
    concurrency: int, total: int, op: Callable[[int, int], Awaitable[None]]
) -> dict[str, float]:
    """`op(worker, i)` run `total` times by `concurrency` workers; latency ms + ops/s."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker(w: int) -> None:
        for i in counter:
            start = time.perf_counter()
            await op(w, i)
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "ops": total / elapsed,
    }


async def _pg(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def run(args: argparse.Namespace, database: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="fcplane-bench-"))
    emu_port, api_port = free_port(), free_port()
    token = "fcp_" + secrets.token_urlsafe(32)
    pg_db = f"fcplane_bench_deploys_{os.getpid()}"
    if database == "postgresql":
        await _pg(f'CREATE DATABASE "{pg_db}"')
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_db}"
    else:
        url = f"sqlite+aiosqlite:///{tmp}/fcplane.db"
    env = {
        **os.environ,
        "FCPLANE_DATABASE_URL": url,
        "FCPLANE_DATA_DIR": str(tmp / "api"),
        "FCPLANE_LOG_LEVEL": "warning",
        "FCPLANE_SECRET_KEY": secrets.token_urlsafe(32),
        "FCPLANE_BOOTSTRAP_TOKEN": token,
        "FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS": "0",
        "FCPLANE_DRIFT_SCAN_CONCURRENCY": str(args.scan_concurrency),
    }
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "service",
                "emulator",
                "--port",
                str(emu_port),
                "--data-dir",
                str(tmp / "emu"),
                "--access-key",
                f"{AK}:{SK}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        ),
    ]
    subprocess.run(
        [sys.executable, "-m", "service", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "service.app:create_app",
                "--port",
                str(api_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
    )
    try:
        emu, api = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{api_port}"
        wait_http(f"{emu}/_emulator/health")
        wait_http(f"{api}/healthz")
        await bench(args, emu, api, token, database)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        if database == "postgresql":
            await _pg(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


async def bench(
    args: argparse.Namespace, emu: str, api_url: str, token: str, database: str
) -> None:
    sdk = Client(
        Config(
            access_key_id=AK,
            access_key_secret=SK,
            region_id="cn-hangzhou",
            endpoint=emu.removeprefix("http://"),
            protocol="http",
        )
    )
    api = httpx.AsyncClient(
        base_url=api_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        limits=httpx.Limits(max_connections=64),
    )
    data = code_zip()
    zip_b64 = base64.b64encode(data).decode()
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    (
        await api.post(
            "/v1/accounts",
            json={
                "alias": "local",
                "account_id": "1234567890",
                "region": "cn-hangzhou",
                "endpoint": emu,
                "access_key_id": AK,
                "access_key_secret": SK,
                "default": True,
            },
        )
    ).raise_for_status()
    (await api.put(f"/v1/code-packages/{sha}", content=data)).raise_for_status()
    heads: dict[str, int] = {}
    for w in range(16):
        name = f"bench-{w}"
        (await api.post("/v1/functions", json={"name": name})).raise_for_status()
        first = await api.post(
            f"/v1/functions/{name}/deployments",
            json={"config": CONFIG, "code_sha256": sha, "base_revision": 0},
        )
        first.raise_for_status()
        heads[name] = 1
        # The raw rows get functions of their own, with the same config and code:
        # a raw UpdateFunction on a managed function would be drift for the next deploy.
        raw_body = fc.CreateFunctionInput(
            function_name=f"raw-{w}",
            runtime=CONFIG["runtime"],
            handler=CONFIG["handler"],
            memory_size=CONFIG["memorySize"],
            cpu=CONFIG["cpu"],
            code=fc.InputCodeLocation(zip_file=zip_b64),
        )
        await sdk.create_function_async(fc.CreateFunctionRequest(body=raw_body))

    async def plan(w: int, i: int) -> None:
        r = await api.post(
            f"/v1/functions/bench-{w}/plan",
            json={"config": CONFIG, "base_revision": heads[f"bench-{w}"]},
        )
        r.raise_for_status()

    async def raw_get(w: int, i: int) -> None:
        await sdk.get_function_async(f"raw-{w}", fc.GetFunctionRequest())

    async def deploy(w: int, i: int) -> None:
        name = f"bench-{w}"
        r = await api.post(
            f"/v1/functions/{name}/deployments",
            json={"config": {**CONFIG, "timeout": 3 + (i % 50)}, "base_revision": heads[name]},
        )
        r.raise_for_status()
        heads[name] = r.json()["to_revision"]

    async def raw_update(w: int, i: int) -> None:
        name = f"raw-{w}"
        body = fc.UpdateFunctionInput(timeout=3 + (i % 50))
        await sdk.update_function_async(name, fc.UpdateFunctionRequest(body=body))
        await sdk.get_function_async(name, fc.GetFunctionRequest())

    rows = [
        ("fcplane plan", plan),
        ("raw GetFunction", raw_get),
        ("fcplane deploy", deploy),
        ("raw UpdateFunction+GetFunction", raw_update),
    ]
    runs: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)
    for _ in range(args.rounds):
        for concurrency in (1, 16):
            for label, op in rows:
                runs[label, concurrency].append(await measure(concurrency, args.requests, op))
    med = {
        key: {k: statistics.median(m[k] for m in ms) for k in ("p50", "p99", "ops")}
        for key, ms in runs.items()
    }
    print(
        f"\n== {database}: {args.requests} requests per measurement, medians of "
        f"{args.rounds} interleaved rounds (load average {os.getloadavg()[0]:.2f}, "
        f"{os.cpu_count()} cores)"
    )
    print(f"{'operation':<34} {'clients':>7} {'p50 ms':>8} {'p99 ms':>8} {'ops/s':>8}")
    for concurrency in (1, 16):
        for label, _ in rows:
            m = med[label, concurrency]
            print(
                f"{label:<34} {concurrency:>7} {m['p50']:>8.2f} {m['p99']:>8.2f} {m['ops']:>8.0f}"
            )
    plan_p50, raw_p50 = med["fcplane plan", 1]["p50"], med["raw GetFunction", 1]["p50"]
    print(
        f"plan p50 at 1 client: {plan_p50:.2f} ms vs raw GetFunction {raw_p50:.2f} ms: "
        f"overhead {plan_p50 - raw_p50:.2f} ms, {plan_p50 / raw_p50:.1f}x"
    )
    ours, theirs = med["fcplane deploy", 16], med["raw UpdateFunction+GetFunction", 16]
    print(
        f"deploy at 16 clients: {ours['ops']:.0f} ops/s vs raw UpdateFunction+GetFunction "
        f"{theirs['ops']:.0f} ops/s: {ours['ops'] / theirs['ops']:.2f}x "
        f"(p50 {ours['p50']:.1f} vs {theirs['p50']:.1f} ms)"
    )

    # Drift scan: N adopted functions vs N raw GetFunction calls.
    n = args.functions
    sem = asyncio.Semaphore(16)

    async def create(i: int) -> None:
        async with sem:
            body = fc.CreateFunctionInput(
                function_name=f"scan-{i}",
                runtime="python3.10",
                handler="index.handler",
                code=fc.InputCodeLocation(zip_file=zip_b64),
            )
            await sdk.create_function_async(fc.CreateFunctionRequest(body=body))
            (
                await api.post("/v1/functions", json={"name": f"scan-{i}", "adopt": True})
            ).raise_for_status()

    await asyncio.gather(*(create(i) for i in range(n)))
    started = time.perf_counter()
    summary = (await api.post("/v1/drift-checks", timeout=600)).json()
    scan_s = time.perf_counter() - started

    async def raw(name: str) -> None:
        async with scan_sem:
            await sdk.get_function_async(name, fc.GetFunctionRequest())

    scan_sem = asyncio.Semaphore(args.scan_concurrency)
    started = time.perf_counter()
    names = [f"scan-{i}" for i in range(n)] + [f"bench-{w}" for w in range(16)]
    await asyncio.gather(*(raw(name) for name in names))
    raw_s = time.perf_counter() - started
    print(
        f"\ndrift scan of {summary['checked']} functions (concurrency {args.scan_concurrency}):"
        f" {scan_s:.2f} s; {n + 16} raw GetFunction calls: {raw_s:.2f} s; "
        f"ratio {scan_s / raw_s:.2f}x; drifted {len(summary['drifted'])}, "
        f"failed {len(summary['failed'])}"
    )
    await api.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--functions", type=int, default=1000, help="for the drift scan")
    parser.add_argument("--scan-concurrency", type=int, default=16)
    args = parser.parse_args()
    for database in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        asyncio.run(run(args, database))


if __name__ == "__main__":
    main()

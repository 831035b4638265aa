"""Benchmark of the emulator runtime (not a test): cold start, warm latency, idle memory.

    python benchmarks/emulator_runtime.py [--cold 30] [--warm 2000] [--unsafe-no-sandbox]

Figures:
- cold start of a Python hello-world: wall time of ``invoke`` on a function
  with no instance (spawn + bootstrap + import + call), p50/p99 (goal p50 <= 150 ms);
- warm in-process ``invoke`` latency (the runtime alone, no HTTP);
- end-to-end HTTP: a bare uvicorn echo app vs. the same app answering through
  ``ProcessRuntime.invoke`` (goal: within 2x; the real API layer adds signature
  checks and routing on top);
- resident memory of an idle Python instance (RSS and PSS from smaps_rollup).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from _common import Receive, Scope, Send, code_zip, read_body, serving

from service.emulator.runtime.contract import FunctionSpec, InvokeRequest
from service.emulator.runtime.manager import ProcessRuntime

HELLO = "def handler(event, context):\n    return event or b'hello world'\n"


def _spec(root: Path, name: str) -> FunctionSpec:
    code = root / "hello.zip"
    if not code.exists():
        code.write_bytes(code_zip(HELLO))
    return FunctionSpec(
        name=name,
        qualifier="LATEST",
        version_id=None,
        runtime="python3.12",
        handler="index.handler",
        timeout_s=10,
        memory_mb=512,
        cpu=1.0,
        disk_mb=512,
        instance_concurrency=1,
        environment={},
        code_zip=code,
        code_checksum="hello",
    )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _summary(label: str, ms: list[float]) -> str:
    return (
        f"{label}: n={len(ms)} p50={_pct(ms, 50):.2f} ms p99={_pct(ms, 99):.2f} ms "
        f"mean={statistics.fmean(ms):.2f} ms"
    )


async def cold_starts(runtime: ProcessRuntime, root: Path, n: int) -> list[float]:
    times = []
    for i in range(n):
        spec = _spec(root, f"cold{i}")
        started = time.perf_counter()
        result = await runtime.invoke(spec, InvokeRequest(f"c{i}", b""))
        times.append((time.perf_counter() - started) * 1000)
        if not result.cold_start or result.body != b"hello world":
            raise RuntimeError(f"unexpected cold-start result: {result}")
        await runtime.drop_function(spec.name)
    return times


async def warm_invokes(runtime: ProcessRuntime, spec: FunctionSpec, n: int) -> list[float]:
    await runtime.invoke(spec, InvokeRequest("warmup", b"x"))
    times = []
    for i in range(n):
        started = time.perf_counter()
        await runtime.invoke(spec, InvokeRequest(f"w{i}", b"echo"))
        times.append((time.perf_counter() - started) * 1000)
    return times


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants: a sandboxed instance is bwrap, its init and the process."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        kids = []
    return [pid] + [p for kid in kids for p in _tree(int(kid))]


def _memory(pid: int) -> dict[str, float]:
    """Summed over the instance's whole process tree (PSS is the fair figure then)."""
    out = {"Rss": 0.0, "Pss": 0.0, "Private_Dirty": 0.0}
    for member in _tree(pid):
        for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in out:
                out[key] += int(rest.split()[0]) / 1024
    return out


def _echo_app(runtime: ProcessRuntime | None, spec: FunctionSpec) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        if runtime is not None:
            body = (await runtime.invoke(spec, InvokeRequest(uuid.uuid4().hex, body))).body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


async def http_echo(app: Any, n: int) -> list[float]:
    times = []
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        for _ in range(50):
            await client.post("/", content=b"echo")
        for _ in range(n):
            started = time.perf_counter()
            response = await client.post("/", content=b"echo")
            times.append((time.perf_counter() - started) * 1000)
            if response.content != b"echo":
                raise RuntimeError(f"unexpected echo: {response.content!r}")
    return times


async def main(cold_n: int, warm_n: int, unsafe: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runtime = ProcessRuntime(root / "data", idle_timeout_s=600, unsafe_no_sandbox=unsafe)
        print("limits:", runtime.limits_mechanism())
        print("sandbox:", runtime.sandbox_status()["mode"])
        try:
            cold = await cold_starts(runtime, root, cold_n)
            print(_summary("cold start (python hello world)", cold))
            spec = _spec(root, "warm")
            print(_summary("warm invoke (in-process)", await warm_invokes(runtime, spec, warm_n)))
            [info] = runtime.instances("warm")
            mem = _memory(info.pid)
            print(
                f"idle python instance: RSS {mem['Rss']:.1f} MB, PSS {mem['Pss']:.1f} MB, "
                f"private dirty {mem['Private_Dirty']:.1f} MB"
            )
            n = max(200, warm_n // 4)
            bare = await http_echo(_echo_app(None, spec), n)
            through = await http_echo(_echo_app(runtime, spec), n)
            print(_summary("HTTP echo, bare uvicorn", bare))
            print(_summary("HTTP echo through the runtime", through))
            print(f"ratio p50: {_pct(through, 50) / _pct(bare, 50):.2f}x (goal <= 2x)")
        finally:
            await runtime.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=30)
    parser.add_argument("--warm", type=int, default=2000)
    parser.add_argument(
        "--unsafe-no-sandbox", action="store_true", help="instances without the sandbox"
    )
    args = parser.parse_args()
    asyncio.run(main(args.cold, args.warm, args.unsafe_no_sandbox))

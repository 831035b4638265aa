"""Warm invoke latency: the FC emulator next to a bare uvicorn echo app, called the same ways.

    python benchmarks/emulator_invoke.py [--requests 2000] [--concurrency 1 16]

Both servers run as separate processes (uvicorn defaults: uvloop + httptools),
so the callers in this process do not share a GIL with them. Each target is
called through the official SDK (InvokeFunction, signed) and with plain HTTP
POSTs (the emulator through an anonymous HTTP trigger). One run; figures are
p50/p99 latency in milliseconds and completed invokes per second.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable

import httpx
from _common import (
    ECHO_PY,
    HERE,
    Receive,
    Scope,
    Send,
    code_zip,
    emulator_process,
    fc_client,
    free_port,
    percentile,
    read_body,
    stop,
    uvicorn_process,
    wait_http,
)
from alibabacloud_fc20230330 import models as fc_models

# Through an HTTP trigger the handler gets FC's HTTP event; answer with its body.
WEB_PY = (
    "import json\n"
    "def handler(event, context):\n"
    "    return {'statusCode': 200, 'body': json.loads(event)['body']}\n"
)
PAYLOAD = b'{"hello": "world"}'


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The baseline: an ASGI app that echoes the request body and does nothing else."""
    if scope["type"] != "http":
        return
    body = await read_body(receive)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/octet-stream")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def run(
    call_factory: Callable[[], Callable[[], None]], total: int, concurrency: int
) -> dict[str, float]:
    per_worker = max(1, total // concurrency)
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    errors: list[BaseException] = []

    def worker() -> None:
        mine = []
        try:
            call = call_factory()
            for _ in range(20):  # warm the connection and the instance
                call()
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
            return
        barrier.wait()
        try:
            for _ in range(per_worker):
                t0 = time.perf_counter()
                call()
                mine.append(time.perf_counter() - t0)
        except BaseException as exc:
            errors.append(exc)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        for t in threads:
            t.join()
        raise errors[0] from None
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return {
        "p50": statistics.median(latencies) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "rps": len(latencies) / elapsed,
    }


def sdk_invoke(endpoint: str, function: str) -> Callable[[], Callable[[], None]]:
    def factory() -> Callable[[], None]:
        client = fc_client(endpoint, max_idle_conns=64)
        request = fc_models.InvokeFunctionRequest(body=PAYLOAD)

        def call() -> None:
            response = client.invoke_function(function, request)
            body = response.body.read()
            if body != PAYLOAD:
                raise AssertionError(f"unexpected body {body[:100]!r}")

        return call

    return factory


def http_post(url: str) -> Callable[[], Callable[[], None]]:
    def factory() -> Callable[[], None]:
        client = httpx.Client()

        def call() -> None:
            response = client.post(url, content=PAYLOAD)
            if response.status_code != 200 or response.content != PAYLOAD:
                raise AssertionError(
                    f"unexpected answer {response.status_code} {response.content[:100]!r}"
                )

        return call

    return factory


def setup_emulator(endpoint: str) -> str:
    """Create the echo function, and a web function with an anonymous HTTP trigger."""
    client = fc_client(endpoint, max_idle_conns=64)
    for name, source in (("echo", ECHO_PY), ("web", WEB_PY)):
        client.create_function(
            fc_models.CreateFunctionRequest(
                body=fc_models.CreateFunctionInput(
                    function_name=name,
                    runtime="python3.10",
                    handler="index.handler",
                    memory_size=1024,
                    cpu=1.0,
                    code=fc_models.InputCodeLocation(
                        zip_file=base64.b64encode(code_zip(source)).decode()
                    ),
                )
            )
        )
    trigger = client.create_trigger(
        "web",
        fc_models.CreateTriggerRequest(
            body=fc_models.CreateTriggerInput(
                trigger_name="http",
                trigger_type="http",
                trigger_config=json.dumps({"authType": "anonymous", "methods": ["POST"]}),
            )
        ),
    ).body
    return str(trigger.http_trigger.url_internet)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="measured calls per row")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()

    emu_port, bare_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        emulator = emulator_process(
            emu_port, data_dir, "--log-level", "warning", "--instance-limit", "100"
        )
        # From this folder: the module imports _common.
        bare = uvicorn_process("emulator_invoke:bare_app", "--app-dir", str(HERE), port=bare_port)
        try:
            wait_http(f"http://127.0.0.1:{emu_port}/_emulator/health", emulator)
            wait_http(f"http://127.0.0.1:{bare_port}/", bare)
            emu_endpoint = f"127.0.0.1:{emu_port}"
            trigger_url = setup_emulator(emu_endpoint)
            rows = []
            for concurrency in args.concurrency:
                for target, path, factory in [
                    ("emulator", "SDK InvokeFunction", sdk_invoke(emu_endpoint, "echo")),
                    (
                        "bare app",
                        "SDK InvokeFunction",
                        sdk_invoke(f"127.0.0.1:{bare_port}", "echo"),
                    ),
                    ("emulator", "HTTP trigger", http_post(trigger_url)),
                    ("bare app", "plain HTTP POST", http_post(f"http://127.0.0.1:{bare_port}/")),
                ]:
                    rows.append(
                        (target, path, concurrency, run(factory, args.requests, concurrency))
                    )
        finally:
            stop(emulator, bare)

    print(f"\n{args.requests} warm calls per row, payload {len(PAYLOAD)} bytes, one run\n")
    print(
        f"{'target':<10} {'path':<20} {'callers':>7} {'p50 ms':>8} {'p99 ms':>8} {'invokes/s':>10}"
    )
    for target, path, concurrency, r in rows:
        figures = f"{r['p50']:>8.2f} {r['p99']:>8.2f} {r['rps']:>10.0f}"
        print(f"{target:<10} {path:<20} {concurrency:>7} {figures}")
    print()
    for concurrency in args.concurrency:
        by = {(t, p[:3]): r for t, p, c, r in rows if c == concurrency}
        sdk_ratio = by[("emulator", "SDK")]["p50"] / by[("bare app", "SDK")]["p50"]
        http_ratio = by[("emulator", "HTT")]["p50"] / by[("bare app", "pla")]["p50"]
        print(
            f"{concurrency:>2} callers: emulator p50 / bare p50 = "
            f"{sdk_ratio:.2f}x (SDK), {http_ratio:.2f}x (HTTP)"
        )


if __name__ == "__main__":
    main()

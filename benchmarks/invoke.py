"""Invoke through fcplane vs the official SDK's InvokeFunction straight to the same function.

    python benchmarks/invoke.py [--database sqlite|postgresql] [--requests 400]
                                [--concurrency 1 16] [--rounds 3]

One stack (benchmarks/_common.fcplane_stack: the FC emulator and fcplane's API, each
its own uvicorn process) and one echo function, deployed through fcplane. Two ways to
invoke it, warm, from threads in this process:

- SDK direct: ``Client.invoke_function`` signed to the emulator (what fcplane itself
  does on each call);
- fcplane: ``POST /v1/accounts/local/functions/echo/invoke`` with a JSON payload
  (token check, function lookup, the same SDK call, the audit row written, the answer
  decoded) — without the log tail, as the direct call asks for none.

Rows are interleaved per round; figures are the medians over rounds of p50/p99 in ms
and invokes/s, and the ratio fcplane p50 / direct p50 at each concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from collections.abc import Callable

import httpx
from _common import (
    CONFIG,
    FUNCTIONS,
    Stack,
    add_account,
    code_zip,
    create_function,
    fc_client,
    fcplane_stack,
    upload_code,
)
from alibabacloud_fc20230330 import models as fc_models
from emulator_invoke import run

EVENT = {"hello": "world", "n": 42}
PAYLOAD = json.dumps(EVENT, separators=(",", ":")).encode()
ECHO = "def handler(event, context):\n    return event\n"


async def setup(stack: Stack) -> None:
    async with httpx.AsyncClient(
        base_url=stack.api, headers={"Authorization": f"Bearer {stack.token}"}, timeout=60
    ) as api:
        await add_account(api, stack.emulator)
        sha = await upload_code(api, code_zip(ECHO))
        await create_function(api, "echo", CONFIG, sha)


def direct(stack: Stack) -> Callable[[], Callable[[], None]]:
    def factory() -> Callable[[], None]:
        client = fc_client(stack.emulator, max_idle_conns=64)
        request = fc_models.InvokeFunctionRequest(body=PAYLOAD)

        def call() -> None:
            body = client.invoke_function("echo", request).body.read()
            if body != PAYLOAD:
                raise AssertionError(f"unexpected body {body[:100]!r}")

        return call

    return factory


def through_fcplane(stack: Stack) -> Callable[[], Callable[[], None]]:
    def factory() -> Callable[[], None]:
        client = httpx.Client(
            base_url=stack.api, headers={"Authorization": f"Bearer {stack.token}"}, timeout=60
        )
        body = {"payload": EVENT, "log_tail": False}

        def call() -> None:
            response = client.post(f"{FUNCTIONS}/echo/invoke", json=body)
            if response.status_code != 200 or response.json()["response"] != EVENT:
                raise AssertionError(f"unexpected answer {response.status_code} {response.text}")

        return call

    return factory


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=400, help="measured calls per row")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    targets = {"SDK direct": direct, "fcplane": through_fcplane}
    figures: dict[tuple[str, int], list[dict[str, float]]] = {}
    with fcplane_stack(args.database) as stack:
        asyncio.run(setup(stack))
        for round_ in range(args.rounds):
            for concurrency in args.concurrency:
                for name, target in targets.items():
                    result = run(target(stack), args.requests, concurrency)
                    figures.setdefault((name, concurrency), []).append(result)
                    print(
                        f"round {round_ + 1} {name:10} c={concurrency:<3} "
                        f"p50 {result['p50']:7.2f} ms  p99 {result['p99']:7.2f} ms  "
                        f"{result['rps']:7.1f}/s",
                        flush=True,
                    )

    def median(name: str, concurrency: int, key: str) -> float:
        return statistics.median(r[key] for r in figures[(name, concurrency)])

    print(f"\nmedians over {args.rounds} rounds ({args.database}, {args.requests} calls a row)")
    print(f"{'target':12} {'callers':>7} {'p50 ms':>8} {'p99 ms':>8} {'invokes/s':>10}")
    for concurrency in args.concurrency:
        for name in targets:
            print(
                f"{name:12} {concurrency:>7} {median(name, concurrency, 'p50'):8.2f} "
                f"{median(name, concurrency, 'p99'):8.2f} {median(name, concurrency, 'rps'):10.1f}"
            )
        ratios = [
            f["p50"] / d["p50"]
            for f, d in zip(
                figures[("fcplane", concurrency)], figures[("SDK direct", concurrency)], strict=True
            )
        ]
        print(f"{'':12} {concurrency:>7} fcplane/direct p50: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()

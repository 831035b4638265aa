"""Plan, deploy and drift-scan cost next to the raw SDK calls they wrap, against the emulator.

fcplane (uvicorn, on SQLite and/or PostgreSQL) and the FC emulator each run in
their own process; the load comes from one asyncio client process. Each part
runs on a fresh database, emulator and API.

Part `classic` (a function without sub-resources): p50/p99 latency and
throughput at 1 and 16 concurrent clients (medians of interleaved rounds),
plan's p50 overhead over the raw GetFunction it wraps (1 client), deploy
throughput at 16 clients against raw UpdateFunction+GetFunction, and a drift
scan of N functions vs N raw GetFunction calls at the same concurrency. (Since
issue 11 a plan, deploy and check read the whole resource: the raw rows here are
the old references, kept for comparison; the scan line also gives the raw calls
the scan now makes.)

Part `resource` (issue 11): a function with 3 triggers (HTTP, an hourly timer,
a disabled nightly timer: none fires during a run), an async-invoke config and
a provision config (target 0 plus a scheduled action: a real
PutProvisionConfig and a config to read and compare, but no instance started),
deployed through fcplane vs the very SDK calls that deploy makes, issued
directly with `alibabacloud_fc20230330` the way fcplane's gateway issues them
(same order, same concurrency, same bodies): the whole-resource read, then
UpdateFunction, UpdateTrigger x3, PutAsyncInvokeConfig, PutProvisionConfig,
then the read-back. Two deploys: only the function's timeout changed (13 calls)
and every part changed (18 calls); p50 at 1 and 16 clients. Then a drift scan
of M such functions vs the raw reads the scan makes (ListCustomDomains once,
then per function GetFunction and at once ListTriggers, GetAsyncInvokeConfig,
GetProvisionConfig, GetConcurrencyConfig) at the same concurrency, interleaved
rounds. Before measuring, a recording proxy in front of the emulator checks
that each raw sequence is exactly the calls fcplane makes.

    python benchmarks/deploys.py [--database sqlite|postgresql|both] [--part classic|resource|all]
                                 [--requests 200] [--rounds 3] [--functions 1000]
                                 [--resource-functions 500] [--scan-rounds 3]
                                 [--loop uvloop|asyncio]

The client runs on uvloop, as fcplane's uvicorn does (`--loop asyncio`: the
plain loop earlier runs of this script used).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvloop
from _common import (
    CONFIG,
    FUNCTIONS,
    Receive,
    Scope,
    Send,
    add_account,
    code_zip,
    create_function,
    fc_client,
    fcplane_stack,
    percentile,
    read_body,
    serving,
    upload_code,
)
from alibabacloud_fc20230330 import models as fc
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

from service.functions import subresources as sub
from service.functions.state import state_of, wire_config

# An operation measured: op(worker, i).
Op = Callable[[int, int], Awaitable[None]]


async def measure(concurrency: int, total: int, op: Op) -> dict[str, float]:
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
    return {
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "ops": total / elapsed,
    }


async def medians(
    rounds: list[list[tuple[str, Op]]], requests: int
) -> dict[tuple[str, int], dict[str, float]]:
    """Each round's rows measured at 1, then at 16 clients: the medians over the rounds
    by (label, clients)."""
    runs: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)
    for rows in rounds:
        for concurrency in (1, 16):
            for label, op in rows:
                runs[label, concurrency].append(await measure(concurrency, requests, op))
    return {
        key: {k: statistics.median(m[k] for m in ms) for k in ("p50", "p99", "ops")}
        for key, ms in runs.items()
    }


def run(args: argparse.Namespace, database: str, part: str) -> None:
    with fcplane_stack(
        database, FCPLANE_DRIFT_SCAN_CONCURRENCY=str(args.scan_concurrency)
    ) as stack:
        bench = bench_classic if part == "classic" else bench_resource
        loop = uvloop.new_event_loop if args.loop == "uvloop" else asyncio.new_event_loop
        with asyncio.Runner(loop_factory=loop) as runner:
            runner.run(bench(args, stack.emulator, stack.api, stack.token, database))


def api_client(api_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=api_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        limits=httpx.Limits(max_connections=64),
    )


async def setup(api: httpx.AsyncClient, emu: str) -> tuple[str, str]:
    """The emulator as the default account `local`, and the code uploaded: (sha256, zip base64)."""
    data = code_zip()
    await add_account(api, emu)
    return await upload_code(api, data), base64.b64encode(data).decode()


async def bench_classic(
    args: argparse.Namespace, emu: str, api_url: str, token: str, database: str
) -> None:
    sdk = fc_client(emu)
    api = api_client(api_url, token)
    sha, zip_b64 = await setup(api, emu)
    heads: dict[str, int] = {}
    for w in range(16):
        heads[f"bench-{w}"] = await create_function(api, f"bench-{w}", CONFIG, sha)
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
            f"{FUNCTIONS}/bench-{w}/plan",
            json={"config": CONFIG, "base_revision": heads[f"bench-{w}"]},
        )
        r.raise_for_status()

    async def raw_get(w: int, i: int) -> None:
        await sdk.get_function_async(f"raw-{w}", fc.GetFunctionRequest())

    async def deploy(w: int, i: int) -> None:
        name = f"bench-{w}"
        r = await api.post(
            f"{FUNCTIONS}/{name}/deployments",
            json={"config": {**CONFIG, "timeout": 3 + (i % 50)}, "base_revision": heads[name]},
        )
        r.raise_for_status()
        heads[name] = r.json()["to_revision"]

    async def raw_update(w: int, i: int) -> None:
        name = f"raw-{w}"
        body = fc.UpdateFunctionInput(timeout=3 + (i % 50))
        await sdk.update_function_async(name, fc.UpdateFunctionRequest(body=body))
        await sdk.get_function_async(name, fc.GetFunctionRequest())

    rows: list[tuple[str, Op]] = [
        ("fcplane plan", plan),
        ("raw GetFunction", raw_get),
        ("fcplane deploy", deploy),
        ("raw UpdateFunction+GetFunction", raw_update),
    ]
    med = await medians([rows] * args.rounds, args.requests)
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
                await api.post(FUNCTIONS, json={"name": f"scan-{i}", "adopt": True})
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
    whole_s = await RawFc(sdk).scan(names, args.scan_concurrency)
    print(
        f"\ndrift scan of {summary['checked']} functions (concurrency {args.scan_concurrency}):"
        f" {scan_s:.2f} s; {n + 16} raw GetFunction calls: {raw_s:.2f} s; "
        f"ratio {scan_s / raw_s:.2f}x; drifted {len(summary['drifted'])}, "
        f"failed {len(summary['failed'])}\n"
        f"  the raw calls the scan makes since issue 11 (1 ListCustomDomains, then 5 per "
        f"function): {whole_s:.2f} s; ratio {scan_s / whole_s:.2f}x"
    )
    await api.aclose()


# -- part `resource` (issue 11): a function as its whole fc3 resource ------------------

LATEST = "LATEST"
HTTP_METHODS = (["GET", "POST"], ["GET", "POST", "PUT"])


def resource_props(fn: int, subs: int) -> dict[str, Any]:
    """The fc3 props deployed: the function, 3 triggers, async-invoke and provision configs.

    The timers cannot fire during a run (hourly; nightly and disabled). The provision
    config keeps target 0 and scales by a scheduled action: a target above 0 would start
    instances in the emulator on every UpdateFunction (a cost fcplane and the raw calls
    would share, which only hides fcplane's own). ``fn`` (0/1) picks the function's
    timeout, ``subs`` (0/1) a value in every sub-resource: flipping one changes that part.
    """
    return {
        **CONFIG,
        "timeout": 10 + fn,
        "triggers": [
            {
                "triggerName": "http_t",
                "triggerType": "http",
                "triggerConfig": {"authType": "anonymous", "methods": HTTP_METHODS[subs]},
            },
            {
                "triggerName": "timer_hourly",
                "triggerType": "timer",
                "triggerConfig": {
                    "cronExpression": "@every 1h",
                    "enable": True,
                    "payload": f'{{"run": "hourly", "v": {subs}}}',
                },
            },
            {
                "triggerName": "timer_nightly",
                "triggerType": "timer",
                "triggerConfig": {
                    "cronExpression": "0 0 3 * * *",
                    "enable": False,
                    "payload": f'{{"run": "nightly", "v": {subs}}}',
                },
            },
        ],
        "asyncInvokeConfig": {"maxAsyncRetryAttempts": 1 + subs, "maxAsyncEventAgeInSeconds": 3600},
        "provisionConfig": {
            "target": 0,
            "alwaysAllocateCPU": False,
            "scheduledActions": [
                {
                    "name": "business-hours",
                    "startTime": "2025-01-01T00:00:00Z",
                    "endTime": "2035-01-01T00:00:00Z",
                    "target": 1 + subs,
                    "scheduleExpression": "cron(0 0 8 * * *)",
                    "timeZone": "Asia/Shanghai",
                }
            ],
        },
    }


@dataclass(frozen=True)
class Wire:
    """The request bodies fcplane sends for a resource, from fcplane's own normalization
    (computed once, outside the timed calls)."""

    function: dict[str, Any]  # UpdateFunction (CreateFunction adds the name and code)
    triggers: list[dict[str, Any]]  # CreateTrigger, by name
    async_config: dict[str, Any]  # PutAsyncInvokeConfig (qualifier LATEST)
    provision: dict[str, Any]  # PutProvisionConfig (qualifier LATEST)

    @staticmethod
    def of(props: dict[str, Any]) -> Wire:
        state = state_of(props, None)
        function = wire_config(state)
        function.pop("tags", None)  # UpdateFunction carries no tags
        return Wire(
            function=function,
            triggers=[sub.trigger_wire(n, t) for n, t in sorted(state[sub.TRIGGERS].items())],
            async_config=sub.config_wire(state[sub.ASYNC_INVOKE])[1],
            provision=sub.config_wire(state[sub.PROVISION])[1],
        )


TRIGGER_UPDATE_FIELDS = ("description", "invocationRole", "qualifier", "triggerConfig")


class RawFc:
    """The FC calls fcplane makes, straight through the SDK, in fcplane's order and
    concurrency (service/functions/live.py, service/deploys/push.py)."""

    def __init__(self, sdk: Client) -> None:
        self.sdk = sdk

    @staticmethod
    async def _optional(call: Awaitable[Any]) -> Any:
        """A config that is not there: FC answers 404."""
        try:
            return await call
        except AlibabaCloudException as exc:
            if exc.status_code != 404:
                raise
            return None

    async def list_domains(self) -> None:
        await self.sdk.list_custom_domains_async(fc.ListCustomDomainsRequest(limit=100))

    async def read(self, name: str, domains: bool = True) -> None:
        """GetFunction, then at once ListTriggers, GetAsyncInvokeConfig, GetProvisionConfig,
        GetConcurrencyConfig and (unless a scan listed them once) ListCustomDomains."""
        sdk = self.sdk
        await sdk.get_function_async(name, fc.GetFunctionRequest())
        calls = [
            sdk.list_triggers_async(name, fc.ListTriggersRequest(limit=100)),
            self._optional(
                sdk.get_async_invoke_config_async(
                    name, fc.GetAsyncInvokeConfigRequest(qualifier=LATEST)
                )
            ),
            self._optional(
                sdk.get_provision_config_async(name, fc.GetProvisionConfigRequest(qualifier=LATEST))
            ),
            self._optional(sdk.get_concurrency_config_async(name)),
        ]
        if domains:
            calls.append(self.list_domains())
        await asyncio.gather(*calls)

    async def create(self, name: str, wire: Wire, zip_b64: str) -> None:
        body = {**wire.function, "functionName": name, "code": {"zipFile": zip_b64}}
        request = fc.CreateFunctionRequest(body=fc.CreateFunctionInput().from_map(body))
        await self.sdk.create_function_async(request)
        for trigger in wire.triggers:
            create = fc.CreateTriggerRequest(body=fc.CreateTriggerInput().from_map(trigger))
            await self.sdk.create_trigger_async(name, create)
        await self._put_configs(name, wire)

    async def _put_configs(self, name: str, wire: Wire) -> None:
        await self.sdk.put_async_invoke_config_async(
            name,
            fc.PutAsyncInvokeConfigRequest(
                qualifier=LATEST, body=fc.PutAsyncInvokeConfigInput().from_map(wire.async_config)
            ),
        )
        await self.sdk.put_provision_config_async(
            name,
            fc.PutProvisionConfigRequest(
                qualifier=LATEST, body=fc.PutProvisionConfigInput().from_map(wire.provision)
            ),
        )

    async def deploy(self, name: str, wire: Wire, everything: bool) -> None:
        """A deploy of ``wire``: read, UpdateFunction, (every sub-resource changed:)
        UpdateTrigger per trigger by name, PutAsyncInvokeConfig, PutProvisionConfig; read back."""
        sdk = self.sdk
        await self.read(name)
        update = fc.UpdateFunctionRequest(body=fc.UpdateFunctionInput().from_map(wire.function))
        await sdk.update_function_async(name, update)
        if everything:
            for trigger in wire.triggers:
                body = {k: trigger[k] for k in TRIGGER_UPDATE_FIELDS if k in trigger}
                request = fc.UpdateTriggerRequest(body=fc.UpdateTriggerInput().from_map(body))
                await sdk.update_trigger_async(name, trigger["triggerName"], request)
            await self._put_configs(name, wire)
        await self.read(name)

    async def scan(self, names: list[str], concurrency: int) -> float:
        """A drift scan's reads (custom domains listed once, by the first reader); seconds."""
        started = time.perf_counter()
        limit = asyncio.Semaphore(concurrency)
        listing: asyncio.Future[None] | None = None

        async def one(name: str) -> None:
            nonlocal listing
            async with limit:
                if listing is None:
                    listing = asyncio.ensure_future(self.list_domains())
                await asyncio.shield(listing)
                await self.read(name, domains=False)

        await asyncio.gather(*(one(name) for name in names))
        return time.perf_counter() - started


class CallLog:
    """A pass-through proxy in front of the emulator that notes every FC call it forwards
    ("METHOD /path?query"): the raw sequences are checked against fcplane's with it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.calls: list[str] = []
        self.client = httpx.AsyncClient(base_url=upstream, timeout=60)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        query = scope["query_string"].decode()
        self.calls.append(f"{scope['method']} {scope['path']}" + (f"?{query}" if query else ""))
        target = scope["raw_path"].decode() + (f"?{query}" if query else "")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.lower() not in (b"content-length", b"transfer-encoding")
        ]
        answer = await self.client.request(scope["method"], target, headers=headers, content=body)
        dropped = ("content-length", "content-encoding", "transfer-encoding", "connection")
        out = [(k.encode(), v.encode()) for k, v in answer.headers.items() if k not in dropped]
        out.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": answer.content})

    def take(self, name: str) -> Counter[str]:
        """The calls noted since the last take, with the function's name as {name}."""
        pattern = re.compile(rf"/{re.escape(name)}(?=[/?]|$)")
        calls = Counter(pattern.sub("/{name}", call) for call in self.calls)
        self.calls.clear()
        return calls

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        try:
            async with serving(self) as url:
                yield url
        finally:
            await self.client.aclose()


def fc_calls(calls: Counter[str]) -> str:
    return ", ".join(f"{n}x {call}" if n > 1 else call for call, n in sorted(calls.items()))


async def check_calls(
    api: httpx.AsyncClient, emu: str, sha: str, zip_b64: str, wires: dict[tuple[int, int], Wire]
) -> dict[str, int]:
    """One deploy of each kind and one drift check through fcplane, and the raw sequences
    that stand for them, all through a recording proxy: the FC calls must be the same.
    Returns the number of calls of each deploy; prints the calls."""
    log = CallLog(emu)
    counts: dict[str, int] = {}
    async with log.serving() as proxy:
        await add_account(api, proxy, alias="verify", account_id="1234567891", default=False)
        base, ours, theirs = "/v1/accounts/verify/functions", "check-fcplane", "check-raw"
        head = await create_function(api, ours, resource_props(0, 0), sha, base)
        raw = RawFc(fc_client(proxy))
        await raw.create(theirs, wires[0, 0], zip_b64)
        log.take(ours)  # not compared: the set-up

        async def deploy(fn: int, subs: int) -> None:
            nonlocal head
            r = await api.post(
                f"{base}/{ours}/deployments",
                json={"config": resource_props(fn, subs), "base_revision": head},
            )
            r.raise_for_status()
            head = r.json()["to_revision"]

        async def drift_check() -> None:
            r = await api.post(f"{base}/{ours}/drift-check")
            r.raise_for_status()
            if r.json()["drifted"]:
                print(f"  WARNING: the check function drifted: {r.json()['changes']}")

        cases: list[tuple[str, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]] = [
            ("function", lambda: deploy(1, 0), lambda: raw.deploy(theirs, wires[1, 0], False)),
            ("everything", lambda: deploy(0, 1), lambda: raw.deploy(theirs, wires[0, 1], True)),
            ("drift check", drift_check, lambda: raw.read(theirs)),
        ]
        for label, ours_op, raw_op in cases:
            await ours_op()
            seen = log.take(ours)
            await raw_op()
            expected = log.take(theirs)
            counts[label] = sum(seen.values())
            verdict = "the same" if seen == expected else "DIFFERENT"
            print(
                f"FC calls, {label}: fcplane {sum(seen.values())}, raw {sum(expected.values())}"
                f" ({verdict}): {fc_calls(seen)}"
            )
            if seen != expected:
                print(f"  only fcplane: {fc_calls(seen - expected)}")
                print(f"  only raw: {fc_calls(expected - seen)}")
        # No longer managed: the scans below do not read it through the proxy.
        gone = await api.delete(f"{base}/{ours}", params={"base_revision": head})
        gone.raise_for_status()
    return counts


async def bench_resource(
    args: argparse.Namespace, emu: str, api_url: str, token: str, database: str
) -> None:
    api = api_client(api_url, token)
    raw = RawFc(fc_client(emu))
    sha, zip_b64 = await setup(api, emu)
    wires = {(fn, subs): Wire.of(resource_props(fn, subs)) for fn in (0, 1) for subs in (0, 1)}
    print(
        f"\n== {database}, resource: 3 triggers + asyncInvokeConfig + provisionConfig "
        f"(target 0, 1 scheduled action) (load average {os.getloadavg()[0]:.2f}, "
        f"{os.cpu_count()} cores)"
    )
    counts = await check_calls(api, emu, sha, zip_b64, wires)

    # 16 managed functions and 16 raw ones, each the whole resource.
    heads: dict[str, int] = {}
    state: dict[str, tuple[int, int]] = {}
    for w in range(16):
        name = f"res-bench-{w}"
        heads[name] = await create_function(api, name, resource_props(0, 0), sha)
        await raw.create(f"res-raw-{w}", wires[0, 0], zip_b64)
        state[name] = state[f"res-raw-{w}"] = (0, 0)

    def flip(name: str, everything: bool) -> tuple[int, int]:
        """The next state of ``name``: the timeout always changes, the rest if ``everything``."""
        fn, subs = state[name]
        state[name] = (1 - fn, 1 - subs if everything else subs)
        return state[name]

    def fcplane_deploy(everything: bool) -> Op:
        async def op(w: int, i: int) -> None:
            name = f"res-bench-{w}"
            r = await api.post(
                f"{FUNCTIONS}/{name}/deployments",
                json={
                    "config": resource_props(*flip(name, everything)),
                    "base_revision": heads[name],
                },
            )
            r.raise_for_status()
            heads[name] = r.json()["to_revision"]

        return op

    def raw_deploy(everything: bool) -> Op:
        async def op(w: int, i: int) -> None:
            name = f"res-raw-{w}"
            await raw.deploy(name, wires[flip(name, everything)], everything)

        return op

    rows = [
        ("fcplane deploy, function changed", fcplane_deploy(False)),
        (f"raw SDK, the same {counts['function']} calls", raw_deploy(False)),
        ("fcplane deploy, all parts changed", fcplane_deploy(True)),
        (f"raw SDK, the same {counts['everything']} calls", raw_deploy(True)),
    ]
    for _, op in rows:  # warm-up
        await measure(1, 5, op)
    # Odd rounds run the raw row of each pair first: no order bias.
    swapped = [x for pair in zip(rows[1::2], rows[::2], strict=True) for x in pair]
    med = await medians([swapped if r % 2 else rows for r in range(args.rounds)], args.requests)
    print(
        f"\ndeploys: {args.requests} per measurement, medians of {args.rounds} interleaved "
        f"rounds (load average {os.getloadavg()[0]:.2f})"
    )
    print(f"{'operation':<36} {'clients':>7} {'p50 ms':>8} {'p99 ms':>8} {'ops/s':>8} {'p50 x':>6}")
    for concurrency in (1, 16):
        for index, (label, _) in enumerate(rows):
            m = med[label, concurrency]
            ratio = ""
            if index % 2 == 0:
                ratio = f"{m['p50'] / med[rows[index + 1][0], concurrency]['p50']:.2f}"
            print(
                f"{label:<36} {concurrency:>7} {m['p50']:>8.2f} {m['p99']:>8.2f} {m['ops']:>8.1f}"
                f" {ratio:>6}"
            )

    # Drift scan: M more functions with the same resource, deployed through fcplane.
    n = args.resource_functions
    limit = asyncio.Semaphore(16)

    async def create(i: int) -> None:
        async with limit:
            await create_function(api, f"res-{i}", resource_props(0, 0), sha)

    await asyncio.gather(*(create(i) for i in range(n)))
    names = [f"res-bench-{w}" for w in range(16)] + [f"res-{i}" for i in range(n)]

    async def fcplane_scan() -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        response = await api.post("/v1/drift-checks", timeout=600)
        response.raise_for_status()
        return time.perf_counter() - started, response.json()

    scans: list[tuple[float, float]] = []
    summaries: list[dict[str, Any]] = []
    for r in range(args.scan_rounds):
        if r % 2:
            theirs = await raw.scan(names, args.scan_concurrency)
            ours, summary = await fcplane_scan()
        else:
            ours, summary = await fcplane_scan()
            theirs = await raw.scan(names, args.scan_concurrency)
        scans.append((ours, theirs))
        summaries.append(summary)
    ours_s = statistics.median(s[0] for s in scans)
    theirs_s = statistics.median(s[1] for s in scans)
    ratios = [s[0] / s[1] for s in scans]
    drifted = sorted({f for s in summaries for f in s["drifted"]})
    failed = {k: v for s in summaries for k, v in s["failed"].items()}
    print(
        f"\ndrift scan of {summaries[0]['checked']} functions (concurrency "
        f"{args.scan_concurrency}), medians of {args.scan_rounds} interleaved rounds: "
        f"fcplane {ours_s:.2f} s, raw {1 + 5 * len(names)} calls {theirs_s:.2f} s: "
        f"{ours_s / theirs_s:.2f}x (per round: {', '.join(f'{x:.2f}' for x in ratios)}; "
        f"aim <= 1.5x); {len(names) / ours_s:.0f} vs {len(names) / theirs_s:.0f} functions/s; "
        f"drifted {len(drifted)}, failed {len(failed)} (load average {os.getloadavg()[0]:.2f})"
    )
    if summaries[0]["checked"] != len(names):
        print(f"  WARNING: fcplane checked {summaries[0]['checked']}, the raw scan {len(names)}")
    for name in drifted[:5]:
        print(f"  drifted: {name}")
    for name, why in list(failed.items())[:5]:
        print(f"  failed: {name}: {why}")
    await api.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--functions", type=int, default=1000, help="for the drift scan")
    parser.add_argument("--scan-concurrency", type=int, default=16)
    parser.add_argument("--part", choices=["classic", "resource", "all"], default="all")
    parser.add_argument(
        "--resource-functions", type=int, default=500, help="for the resource drift scan"
    )
    parser.add_argument("--scan-rounds", type=int, default=3, help="resource drift scans")
    parser.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="the client's event loop (uvloop: the loop fcplane's uvicorn runs its SDK calls on)",
    )
    args = parser.parse_args()
    parts = ["classic", "resource"] if args.part == "all" else [args.part]
    for database in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        for part in parts:
            run(args, database, part)


if __name__ == "__main__":
    main()

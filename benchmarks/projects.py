"""A generated project of N functions (each with an HTTP trigger; 10 feeding their URL to
others through `${resources.X.output.url.system_url}`): parse+resolve, plan and deploy
through fcplane next to the raw SDK calls they stand for, against the FC emulator.

- parse+resolve: the s.yaml parser in this process (median of rounds);
- plan: fcplane's project plan vs the raw reads it makes (per function GetFunction
  and, as it exists, ListTriggers, GetAsyncInvokeConfig, GetProvisionConfig,
  GetConcurrencyConfig, ListCustomDomains), issued sequentially;
- deploy (first deploy: every function new): fcplane's project deploy (its
  parallelism, in dependency order) vs the writes it makes issued sequentially
  with the official SDK: per function GetFunction (404), CreateFunction,
  CreateTrigger, then the read-back GetFunction + ListTriggers; plus ListTriggers
  for each function whose output is read.

fcplane (uvicorn) and the emulator run in their own processes, on PostgreSQL by
default. `--fc-latency-ms` makes the emulator answer every FC call that much
later (a real FC region is tens of milliseconds away). Rounds are interleaved:
each round deploys a new project and a new set of raw functions.

    python benchmarks/projects.py [--functions 50] [--rounds 3] [--fc-latency-ms 0]
                                  [--database postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import statistics
import time
from collections.abc import Callable

import httpx
from _common import (
    AK,
    SK,
    add_account,
    code_zip,
    fc_client,
    fcplane_stack,
    upload_code,
)
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client

from service.emulator.credentials import admin_bearer
from service.projects.spec import parse_project

FEEDERS = 10


def generated(n: int, prefix: str) -> str:
    lines = ["edition: 3.0.0", f"name: {prefix}", "access: default", "resources:"]
    for i in range(n):
        lines += [
            f"  f{i}:",
            "    component: fc3",
            "    props:",
            "      region: cn-hangzhou",
            f"      functionName: {prefix}-f{i}",
            "      runtime: python3.10",
            "      handler: index.handler",
            "      memorySize: 512",
            "      code: ./code",
            "      triggers:",
            "        - triggerName: http",
            "          triggerType: http",
            "          triggerConfig: {authType: anonymous, methods: [GET, POST]}",
        ]
        if FEEDERS <= i < 2 * FEEDERS:
            lines += [
                "      environmentVariables:",
                f"        UPSTREAM: ${{resources.f{i - FEEDERS}.output.url.system_url}}",
            ]
    return "\n".join(lines) + "\n"


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def raw_reads(fc: Client, name: str) -> None:
    fc.get_function(name, fc_models.GetFunctionRequest())
    fc.list_triggers(name, fc_models.ListTriggersRequest(limit=100))
    calls: list[Callable[[], object]] = [
        lambda: fc.get_async_invoke_config(name, fc_models.GetAsyncInvokeConfigRequest()),
        lambda: fc.get_provision_config(name, fc_models.GetProvisionConfigRequest()),
        lambda: fc.get_concurrency_config(name),
    ]
    for call in calls:
        try:
            call()
        except Exception:
            pass


def raw_deploy(fc: Client, name: str, zip_b64: str, feeds: bool) -> None:
    try:
        fc.get_function(name, fc_models.GetFunctionRequest())
    except Exception:
        pass
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name=name,
                runtime="python3.10",
                handler="index.handler",
                memory_size=512,
                code=fc_models.InputCodeLocation(zip_file=zip_b64),
            )
        )
    )
    fc.create_trigger(
        name,
        fc_models.CreateTriggerRequest(
            body=fc_models.CreateTriggerInput(
                trigger_name="http",
                trigger_type="http",
                trigger_config='{"authType":"anonymous","methods":["GET","POST"]}',
            )
        ),
    )
    raw_reads(fc, name)
    if feeds:
        fc.list_triggers(name, fc_models.ListTriggersRequest(limit=100))


async def bench(args: argparse.Namespace, emu: str, api_url: str, token: str) -> None:
    api = httpx.AsyncClient(
        base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=600
    )
    await add_account(api, emu)
    data = code_zip()
    sha, zip_b64 = await upload_code(api, data), base64.b64encode(data).decode()
    fc = fc_client(emu)
    if args.fc_latency_ms:
        await asyncio.to_thread(_latency, emu, args.fc_latency_ms)
    n = args.functions
    parse_s, plan_s, plan_raw_s, deploy_s, deploy_raw_s = [], [], [], [], []
    for round_ in range(args.rounds):
        prefix = f"p{round_}{secrets.token_hex(2)}"
        text = generated(n, prefix)
        started = time.perf_counter()
        parse_project({"s.yaml": text}, env={}, config={"AccountID": "1234567890"})
        parse_s.append(time.perf_counter() - started)
        put = await api.post(
            "/v1/projects",
            json={"name": prefix, "files": {"s.yaml": text}, "code": {"./code": sha}},
        )
        put.raise_for_status()

        started = time.perf_counter()
        deployed = await api.post(f"/v1/projects/{prefix}/deployments", json={"base_revision": 0})
        deploy_s.append(time.perf_counter() - started)
        deployed.raise_for_status()
        assert deployed.json()["status"] == "succeeded", deployed.text

        started = time.perf_counter()
        for i in range(n):
            await asyncio.to_thread(raw_deploy, fc, f"raw{prefix}-f{i}", zip_b64, i < FEEDERS)
        deploy_raw_s.append(time.perf_counter() - started)

        started = time.perf_counter()
        planned = await api.post(f"/v1/projects/{prefix}/plan", json={})
        plan_s.append(time.perf_counter() - started)
        planned.raise_for_status()

        started = time.perf_counter()
        for i in range(n):
            await asyncio.to_thread(raw_reads, fc, f"{prefix}-f{i}")
        plan_raw_s.append(time.perf_counter() - started)
        print(
            f"round {round_ + 1}: parse {parse_s[-1] * 1000:.0f} ms, deploy {deploy_s[-1]:.2f} s "
            f"(raw sequential {deploy_raw_s[-1]:.2f} s), plan {plan_s[-1]:.2f} s (raw reads "
            f"{plan_raw_s[-1]:.2f} s)",
            flush=True,
        )
    d, dr = statistics.median(deploy_s), statistics.median(deploy_raw_s)
    p, pr = statistics.median(plan_s), statistics.median(plan_raw_s)
    print(
        f"\n{n} functions, {args.database}, FC latency {args.fc_latency_ms} ms, "
        f"medians of {args.rounds}:\n"
        f"  parse+resolve      {median_ms(parse_s)} ms\n"
        f"  plan               {p:.2f} s   raw sequential reads {pr:.2f} s   ratio {p / pr:.2f}\n"
        f"  deploy (all new)   {d:.2f} s   raw sequential calls {dr:.2f} s   ratio {d / dr:.2f}"
    )
    await api.aclose()


def _latency(emu: str, ms: int) -> None:
    httpx.post(
        f"{emu}/_emulator/faults",
        json={"action": "*", "count": None, "latencyMs": ms},
        headers={"Authorization": f"Bearer {admin_bearer(AK, SK)}"},
    ).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fc-latency-ms", type=int, default=0)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    with fcplane_stack(args.database) as stack:
        asyncio.run(bench(args, stack.emulator, stack.api, stack.token))


if __name__ == "__main__":
    main()

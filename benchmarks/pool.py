"""Connection-pool stall: 50 concurrent clients, each with its own token, mixed requests.

A real fcplane API process (uvicorn, pool of 20 = the default, token cache off so
every request authenticates against the database) and the FC emulator, each in
its own process. N functions are registered and deployed once; then each client
loops for --duration seconds over plan, deploy (to a random function, on the
head it last saw: a 409 from a lost race is counted as a conflict, not an
error, and the client takes the head from the answer), drift check, job list
and function list. A monitor polls /readyz once a second meanwhile.

Figures per database: requests/s (all answers / wall time including the drain of
requests in flight at the deadline), answers by outcome (2xx, 409 conflict,
5xx by status, client timeouts, connection errors, other), latency p50/p99/max
per request kind, a 5-second timeline of requests and failures by send time,
the `code`s of the deploys' 409s, /readyz answers, the first error body of each
kind, and the exceptions in the API's log. Every request goes on a new
connection, like separate CI jobs. Only the public HTTP API is used.

    python benchmarks/pool.py [--database sqlite|postgresql|both] [--clients 50]
                              [--functions 20] [--duration 40] [--timeout 60]
                              [--pool-size 20] [--keep-log DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import re
import secrets
import statistics
import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import (
    API_APP,
    CONFIG,
    FUNCTIONS,
    add_account,
    code_zip,
    create_function,
    emulator_process,
    fcplane_env,
    free_port,
    migrate,
    percentile,
    stop,
    upload_code,
    uvicorn_process,
    wait_http,
    workspace,
)

KINDS = ("plan", "deploy", "drift-check", "list jobs", "list functions")
BUCKET_S = 5


@dataclass
class Answer:
    kind: str
    outcome: str  # "2xx", "conflict", "500", ..., "timeout", "transport"
    started: float  # seconds since the load started
    latency_ms: float


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    samples: dict[tuple[str, str], str] = field(default_factory=dict)  # first body per error
    readyz: Counter[str] = field(default_factory=Counter)
    readyz_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    server_errors: Counter[str] = field(default_factory=Counter)  # from the API's log
    failed_at: Counter[str] = field(default_factory=Counter)  # route and innermost app frame
    conflict_codes: Counter[str] = field(default_factory=Counter)  # the `code` of each 409


def outcome_of(response: httpx.Response) -> str:
    if response.is_success:
        return "2xx"
    if response.status_code == 409:
        return "conflict"
    return str(response.status_code)


class Load:
    def __init__(self, api: httpx.AsyncClient, tokens: list[str], functions: int) -> None:
        self.api, self.tokens = api, tokens
        self.names = [f"pool-{i}" for i in range(functions)]
        self.heads = dict.fromkeys(self.names, 1)
        self.seq = itertools.count()
        self.run = Run()
        self.t0 = 0.0

    async def request(self, kind: str, client: int, rng: random.Random) -> None:
        auth = {"Authorization": f"Bearer {self.tokens[client]}"}
        name = rng.choice(self.names)
        base = self.heads[name]
        started = time.perf_counter()
        try:
            if kind == "plan":
                config = {**CONFIG, "timeout": 3 + next(self.seq) % 300}
                response = await self.api.post(
                    f"{FUNCTIONS}/{name}/plan",
                    json={"config": config, "base_revision": base},
                    headers=auth,
                )
            elif kind == "deploy":
                # A config no other deploy sends: every deploy is a change.
                env = {"BENCH_SEQ": str(next(self.seq))}
                response = await self.api.post(
                    f"{FUNCTIONS}/{name}/deployments",
                    json={"config": {**CONFIG, "environmentVariables": env}, "base_revision": base},
                    headers=auth,
                )
            elif kind == "drift-check":
                response = await self.api.post(f"{FUNCTIONS}/{name}/drift-check", headers=auth)
            elif kind == "list jobs":
                response = await self.api.get("/v1/jobs", headers=auth)
            else:
                response = await self.api.get("/v1/functions", headers=auth)
            outcome = outcome_of(response)
        except httpx.TimeoutException:
            outcome, response = "timeout", None
        except httpx.TransportError as exc:
            outcome, response = "transport", None
            self.run.samples.setdefault((kind, outcome), repr(exc))
        elapsed = time.perf_counter() - started
        self.run.answers.append(Answer(kind, outcome, started - self.t0, elapsed * 1000))
        if response is None:
            return
        if outcome != "2xx":
            self.run.samples.setdefault((kind, outcome), response.text[:600])
        if kind == "deploy":
            self.track_head(name, response)

    def track_head(self, name: str, response: httpx.Response) -> None:
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            return
        head: object = None
        if response.status_code == 201:
            head = body.get("to_revision")
        elif response.status_code == 409:
            self.run.conflict_codes[str(body.get("code"))] += 1
            if isinstance(body.get("plan"), dict):
                head = body["plan"].get("head_revision")
        if isinstance(head, int) and head > self.heads[name]:
            self.heads[name] = head

    async def client(self, index: int, deadline: float) -> None:
        rng = random.Random(index)
        kinds = itertools.cycle(KINDS[index % len(KINDS) :] + KINDS[: index % len(KINDS)])
        while time.perf_counter() < deadline:
            await self.request(next(kinds), index, rng)

    async def monitor(self, deadline: float) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                response = await self.api.get("/readyz", timeout=10)
                self.run.readyz[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                self.run.readyz[type(exc).__name__] += 1
            self.run.readyz_ms.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))

    async def go(self, clients: int, duration: float) -> Run:
        self.t0 = time.perf_counter()
        deadline = self.t0 + duration
        await asyncio.gather(
            self.monitor(deadline), *(self.client(i, deadline) for i in range(clients))
        )
        self.run.wall_s = time.perf_counter() - self.t0
        return self.run


async def prepare(api: httpx.AsyncClient, emu: str, args: argparse.Namespace) -> list[str]:
    """Account, code, N deployed functions and one deploy token per client."""
    await add_account(api, emu)
    sha = await upload_code(api, code_zip())
    for i in range(args.functions):
        await create_function(api, f"pool-{i}", CONFIG, sha)
    tokens = []
    for i in range(args.clients):
        created = await api.post("/v1/tokens", json={"name": f"ci-{i}", "scopes": ["deploy"]})
        created.raise_for_status()
        tokens.append(created.json()["token"])
    return tokens


def run_one(database: str, args: argparse.Namespace) -> Run:
    emu_port, api_port = free_port(), free_port()
    admin = "fcp_" + secrets.token_urlsafe(32)
    with workspace(database, "fcplane-bench-pool-") as (tmp, url):
        env = fcplane_env(
            url,
            tmp / "api",
            admin,
            FCPLANE_TOKEN_CACHE_SECONDS="0",
            FCPLANE_DATABASE_POOL_SIZE=str(args.pool_size),
            FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS="0",
        )
        procs: list[subprocess.Popen[bytes]] = []
        log_path = tmp / "api.log"
        try:
            procs.append(emulator_process(emu_port, tmp / "emu", env=env))
            migrate(url)
            with log_path.open("wb") as log:
                procs.append(uvicorn_process(*API_APP, port=api_port, env=env, stderr=log))
            emu, api_url = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{api_port}"
            wait_http(f"{emu}/_emulator/health", procs[0])
            wait_http(f"{api_url}/healthz", procs[1])
            run = asyncio.run(load(emu, api_url, admin, args))
        finally:
            stop(*procs)
            log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
            if args.keep_log:
                Path(args.keep_log).mkdir(parents=True, exist_ok=True)
                (Path(args.keep_log) / f"api-{database}.log").write_text(log_text)
    run.server_errors = exceptions_in(log_text)
    run.failed_at = failure_sites(log_text)
    return run


def exceptions_in(log: str) -> Counter[str]:
    """The exception that ends each traceback in the API's log, without its details."""
    found: Counter[str] = Counter()
    pattern = r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout)\w*):? ?(.*)$"
    for match in re.finditer(pattern, log, re.M):
        found[f"{match.group(1)}: {match.group(2)[:90]}"] += 1
    return found


def failure_sites(log: str) -> Counter[str]:
    """For each "unhandled X on METHOD PATH" entry: the route and its innermost service frame."""
    found: Counter[str] = Counter()
    for entry in re.split(r"^unhandled ", log, flags=re.M)[1:]:
        head = re.sub(r"/functions/[^/\s]+", "/functions/{name}", entry.split("\n", 1)[0])
        frames = re.findall(r'File ".*?/(service/[^"]+)", line (\d+), in (\w+)', entry)
        where = f"{frames[-1][0]}:{frames[-1][1]} {frames[-1][2]}" if frames else "?"
        found[f"{head} <- {where}"] += 1
    return found


async def load(emu: str, api_url: str, admin: str, args: argparse.Namespace) -> Run:
    async with httpx.AsyncClient(
        base_url=api_url,
        headers={"Authorization": f"Bearer {admin}"},
        timeout=args.timeout,
        # A connection per request, like 50 separate CI jobs; and uvicorn closes a
        # connection after an unhandled exception, so a reused one could fail as a
        # client-side artefact of an earlier 500.
        limits=httpx.Limits(max_connections=args.clients + 8, max_keepalive_connections=0),
    ) as api:
        tokens = await prepare(api, emu, args)
        return await Load(api, tokens, args.functions).go(args.clients, args.duration)


def report(database: str, run: Run, args: argparse.Namespace) -> None:
    answers = run.answers
    outcomes = Counter(a.outcome for a in answers)
    fivexx = sum(n for o, n in outcomes.items() if o.isdigit() and o.startswith("5"))
    print(
        f"\n== {database}: {args.clients} clients (a token each), {args.functions} functions, "
        f"pool {args.pool_size}, token cache off, {args.duration:g}s + drain = "
        f"{run.wall_s:.1f}s, client timeout {args.timeout:g}s "
        f"(load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores)"
    )
    print(
        f"requests/s {len(answers) / run.wall_s:.1f} (ok+conflict "
        f"{(outcomes['2xx'] + outcomes['conflict']) / run.wall_s:.1f}); answers {len(answers)}; "
        f"5xx {fivexx}; timeouts {outcomes['timeout']}; "
        + ", ".join(f"{o}: {n}" for o, n in sorted(outcomes.items()))
    )
    header = f"{'request':<16} {'n':>6} {'2xx':>6} {'409':>5} {'5xx':>5} {'t/o':>5} {'other':>5}"
    print(f"{header} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for kind in (*KINDS, "all"):
        rows = [a for a in answers if kind in ("all", a.kind)]
        c = Counter(a.outcome for a in rows)
        five = sum(n for o, n in c.items() if o.isdigit() and o.startswith("5"))
        other = len(rows) - c["2xx"] - c["conflict"] - five - c["timeout"]
        lat = [a.latency_ms for a in rows]
        print(
            f"{kind:<16} {len(rows):>6} {c['2xx']:>6} {c['conflict']:>5} {five:>5} "
            f"{c['timeout']:>5} {other:>5} {statistics.median(lat) if lat else 0:>9.1f} "
            f"{percentile(lat, 0.99):>9.1f} {max(lat, default=0):>9.1f}"
        )
    buckets: dict[int, Counter[str]] = defaultdict(Counter)
    for a in answers:
        # By when the request was sent: a stalled request shows in the bucket it began in.
        key = int(a.started // BUCKET_S)
        buckets[key]["sent"] += 1
        buckets[key]["ok" if a.outcome in ("2xx", "conflict") else "failed"] += 1
    print(
        f"timeline (by send time, {BUCKET_S}s buckets): "
        + " ".join(
            f"{k * BUCKET_S}s:{b['sent']}/{b['failed']}x" for k, b in sorted(buckets.items())
        )
        + "  (sent/failed)"
    )
    if run.conflict_codes:
        print(
            "deploy 409 codes: "
            + ", ".join(f"{c}: {n}" for c, n in run.conflict_codes.most_common())
        )
    print(
        "readyz: "
        + ", ".join(f"{k}: {n}" for k, n in sorted(run.readyz.items()))
        + f"; max {max(run.readyz_ms, default=0):.0f} ms"
    )
    for line, n in run.server_errors.most_common(8):
        print(f"  server log: {n} x {line}")
    for line, n in run.failed_at.most_common(12):
        print(f"  failed: {n} x {line}")
    for (kind, outcome), body in sorted(run.samples.items()):
        print(f"  first {outcome} of {kind}: {body}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--functions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=40, help="seconds of load")
    parser.add_argument("--timeout", type=float, default=60, help="client timeout, seconds")
    parser.add_argument("--pool-size", type=int, default=20, help="FCPLANE_DATABASE_POOL_SIZE")
    parser.add_argument("--keep-log", metavar="DIR", help="keep the API's log as DIR/api-DB.log")
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for database in databases:
        report(database, run_one(database, args), args)


if __name__ == "__main__":
    main()

"""GET /v1/accounts at 32 connections: fcplane vs the same query through SQLAlchemy Core.

Targets, each one uvicorn process started with the same flags, all in one run:

- bare FastAPI: a constant (benchmarks/bare_app.py), the ceiling of the framework;
- Core SQLite / Core PostgreSQL: benchmarks/core_app.py, the same accounts query
  on an engine with fcplane's pool settings, same JSON, no auth, no layers;
- fcplane SQLite / fcplane PostgreSQL: the real API with a valid token.

Each Core target reads the very database its fcplane target uses (migrated with
`fcplane db upgrade`, seeded through the API), and the script checks that both
return the same JSON. Load comes from wrk (Debian package `wrk`) so the client
costs little of the machine's CPU. Rounds are interleaved; medians reported.
"vs Core" is the median over rounds of fcplane / Core on the same backend within
the round (issue 9's aim: >= 0.8x).

    python benchmarks/api_accounts.py [--duration 10] [--rounds 3] [--connections 32]
                                      [--accounts 5] [--token-cache-seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import httpx
from _common import (
    API_APP,
    fcplane_env,
    free_port,
    migrate,
    new_database,
    stop,
    uvicorn_process,
    wait_http,
)

BACKENDS = ("SQLite", "PostgreSQL")


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[match.group(2)]
    return float(match.group(1)) * factor


def wrk(url: str, token: str, duration: int, connections: int) -> Result:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx", out):
        raise RuntimeError(f"non-2xx responses from {url}:\n{out}")
    return Result(rps, p50, p99)


class Target:
    def __init__(self, name: str, app: list[str], env: dict[str, str]) -> None:
        self.name, self.app, self.env = name, app, env
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = uvicorn_process(*self.app, port=self.port, env={**os.environ, **self.env})
        wait_http(f"{self.url}/healthz", self.proc)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop(self.proc)


def seed(target: Target, token: str, count: int) -> None:
    for i in range(count):
        httpx.post(
            f"{target.url}/v1/accounts",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "alias": f"acct-{i}",
                "account_id": "1234567890",
                "region": "cn-hangzhou",
                "access_key_id": "LTAIbenchmark0001",
                "access_key_secret": "s" * 30,
                **({"security_token": "t" * 40} if i % 2 else {}),
                "default": i == 0,
            },
        ).raise_for_status()


def same_json(fcplane: Target, core: Target, token: str) -> None:
    """Warn (loudly) when the reference does not answer what fcplane answers."""
    auth = {"Authorization": f"Bearer {token}"}
    ours = httpx.get(f"{fcplane.url}/v1/accounts", headers=auth).raise_for_status().json()
    ref = httpx.get(f"{core.url}/v1/accounts", headers=auth).raise_for_status().json()
    if ours != ref:
        print(
            f"WARNING: {core.name} and {fcplane.name} answer different JSON:\n"
            f"  fcplane: {json.dumps(ours)[:400]}\n  core:    {json.dumps(ref)[:400]}",
            file=sys.stderr,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=5, help="accounts in the listed page")
    parser.add_argument(
        "--token-cache-seconds", type=float, default=5.0, help="fcplane's token cache (0: off)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is required: apt-get install wrk")

    token = "fcp_" + secrets.token_urlsafe(32)
    cache = str(args.token_cache_seconds)
    with (
        tempfile.TemporaryDirectory(prefix="fcplane-bench-", ignore_cleanup_errors=True) as tmp,
        new_database("sqlite", tmp) as sqlite_url,
        new_database("postgresql", tmp) as postgresql_url,
    ):
        urls = {"SQLite": sqlite_url, "PostgreSQL": postgresql_url}
        core = ["--factory", "benchmarks.core_app:create_app"]
        targets = [Target("bare FastAPI", ["benchmarks.bare_app:app"], {})]
        for backend in BACKENDS:
            env = fcplane_env(
                urls[backend], f"{tmp}/{backend}", token, FCPLANE_TOKEN_CACHE_SECONDS=cache
            )
            targets.append(Target(f"fcplane {backend}", list(API_APP), env))
            targets.append(Target(f"Core {backend}", core, {"FCPLANE_DATABASE_URL": urls[backend]}))
        by_name = {t.name: t for t in targets}
        results: dict[str, list[Result]] = {t.name: [] for t in targets}
        try:
            for url in urls.values():
                migrate(url)
            for target in targets:  # fcplane before its Core twin: it seeds the database
                target.start()
                if target.name.startswith("fcplane"):
                    seed(target, token, args.accounts)
                if target.name.startswith("Core"):
                    same_json(by_name[target.name.replace("Core", "fcplane")], target, token)
                # Warm-up: connection pools, caches, the first-request path.
                wrk(f"{target.url}/v1/accounts", token, 2, args.connections)
            for _ in range(args.rounds):
                for target in targets:
                    results[target.name].append(
                        wrk(f"{target.url}/v1/accounts", token, args.duration, args.connections)
                    )
        finally:
            for target in targets:
                target.stop()

    bare = results["bare FastAPI"]
    print(
        f"\nGET /v1/accounts ({args.accounts} accounts), {args.connections} connections, "
        f"{args.rounds} x {args.duration}s, medians; fcplane token cache "
        f"{args.token_cache_seconds:g}s (machine: {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f})"
    )
    print(f"{'target':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8} {'vs Core':>8}")
    for name, runs in results.items():
        rps = statistics.median(r.rps for r in runs)
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        vs_bare = statistics.median(r.rps / b.rps for r, b in zip(runs, bare, strict=True))
        vs_core, spread = "", ""
        if name.startswith("fcplane"):
            ref = results[name.replace("fcplane", "Core")]
            ratios = [r.rps / c.rps for r, c in zip(runs, ref, strict=True)]
            vs_core = f"{statistics.median(ratios):.2f}x"
            spread = "  rounds: " + " ".join(f"{x:.2f}" for x in ratios)
        print(
            f"{name:<20} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {vs_bare:>7.2f}x {vs_core:>8}{spread}"
        )


if __name__ == "__main__":
    main()

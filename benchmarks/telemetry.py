"""What fcplane's own telemetry costs: GET /v1/accounts (benchmarks/api_accounts.py's
request) with /metrics' request middleware and the access log in text or JSON, against
the same server with both off, all in one run.

Targets, each one `fcplane serve --no-emulator` process on the same migrated, seeded
database (SQLite by default), differing only in their settings:

- off: FCPLANE_METRICS_ENABLED=false, log level warning (no access lines; what
  `fcplane serve` did before, when the embedded emulator silenced uvicorn.access);
- metrics: the request metrics middleware (and the request id), still no access lines;
- metrics + text log: and one text access line per request (log level info);
- metrics + JSON log: and one JSON access line per request (FCPLANE_LOG_FORMAT=json).

Logs go to files, as a service manager would keep them. Load comes from wrk at 32
connections; rounds are interleaved, medians reported, and "vs off" is the median over
rounds of target / off within the round (issue 14's aim: overhead < 5%, i.e. >= 0.95x).
Besides req/s, each run records the server process's CPU time (user + system, from
/proc) per request served: on a shared machine throughput swings with the neighbours'
load, while the CPU a request costs the server moves much less, so "CPU vs off" is
the steadier figure of the overhead. A final scrape checks that /metrics counted
every request wrk reported. Last, without the noise of the machine, the CPU in this
process of one request through the metrics middleware (against the bare ASGI call)
and of one access line through fcplane's text and JSON handlers into a file (best of
5 x 5000); `--micro` prints only these.

    python benchmarks/telemetry.py [--duration 10] [--rounds 3] [--connections 32]
                                   [--accounts 5] [--database sqlite|postgresql] [--micro]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import ROOT, fcplane_env, free_port, migrate, new_database, stop, wait_http
from api_accounts import _ms, seed
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

sys.path.insert(0, str(ROOT))

from service.kit.logging import ACCESS_LOGGER, log_handler
from service.kit.settings import LogFormat
from service.telemetry.metrics import Metrics
from service.telemetry.middleware import RequestMetrics

TARGETS: dict[str, dict[str, str]] = {
    "off": {"FCPLANE_METRICS_ENABLED": "false", "FCPLANE_LOG_LEVEL": "warning"},
    "metrics": {"FCPLANE_METRICS_ENABLED": "true", "FCPLANE_LOG_LEVEL": "warning"},
    "metrics + text log": {"FCPLANE_LOG_LEVEL": "info", "FCPLANE_LOG_FORMAT": "text"},
    "metrics + JSON log": {"FCPLANE_LOG_LEVEL": "info", "FCPLANE_LOG_FORMAT": "json"},
}


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # server CPU time per request


@dataclass
class Server:
    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    sent: int = 0  # requests wrk completed against it

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def start(self) -> None:
        env = {**self.env, "FCPLANE_PORT": str(self.port)}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "service", "serve", "--no-emulator", "--skip-migrations"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=out,
            )
        wait_http(f"{self.url}/healthz", self.proc)


def requests_counted(server: Server, token: str) -> float:
    text = httpx.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {token}"}
    ).raise_for_status()
    pattern = r'fcplane_http_requests_total\{method="GET",route="/v1/accounts",status="200"\} (\S+)'
    found = re.search(pattern, text.text)
    return float(found.group(1)) if found else 0.0


def measure(server: Server, token: str, duration: int, connections: int) -> Result:
    cpu_before = server.cpu_seconds()
    out = subprocess.run(
        [
            *("wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"),
            *("-H", f"Authorization: Bearer {token}", f"{server.url}/v1/accounts"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cpu = server.cpu_seconds() - cpu_before
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    server.sent += done
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx", out):
        raise RuntimeError(f"non-2xx responses from {server.name}:\n{out}")
    return Result(rps, p50, p99, cpu / max(done, 1) * 1e6)


def line_cost(log_format: LogFormat, path: Path) -> float:
    """CPU microseconds of one uvicorn access line through fcplane's handler."""
    scope: Any = {"client": ("127.0.0.1", 50000), "raw_path": b"/v1/accounts", "query_string": b""}
    logger = logging.getLogger(ACCESS_LOGGER)
    handler = log_handler(log_format)
    with path.open("w", buffering=1) as stream:
        handler.setStream(stream)
        logger.handlers, logger.propagate, logger.level = [handler], False, logging.INFO
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            for _ in range(5000):
                logger.info(
                    '%s - "%s %s HTTP/%s" %d',
                    get_client_addr(scope),
                    "GET",
                    get_path_with_query_string(scope),
                    "1.1",
                    200,
                )
            best = min(best, (time.process_time() - started) / 5000 * 1e6)
    return best


def middleware_cost() -> float:
    """CPU microseconds RequestMetrics adds to one request (the app answers at once)."""
    route = type("Route", (), {"path": "/v1/accounts"})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["route"] = route
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"[]"})

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        pass

    async def calls(target: Any) -> float:
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            for _ in range(5000):
                await target({"type": "http", "method": "GET"}, receive, send)
            best = min(best, (time.process_time() - started) / 5000 * 1e6)
        return best

    bare = asyncio.run(calls(app))
    return asyncio.run(calls(RequestMetrics(app, Metrics()))) - bare


def micro() -> None:
    with tempfile.TemporaryDirectory(prefix="fcplane-bench-") as tmp:
        costs = {f: line_cost(f, Path(tmp) / f"{f}.log") for f in LogFormat}
    print(
        f"CPU in this process: metrics middleware {middleware_cost():.1f} us per request; "
        "one access line " + ", ".join(f"{f.value} {us:.1f} us" for f, us in costs.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=5, help="accounts in the listed page")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--micro", action="store_true", help="only the in-process figures")
    args = parser.parse_args()
    if args.micro:
        micro()
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is required: apt-get install wrk")

    token = "fcp_" + os.urandom(24).hex()
    with (
        tempfile.TemporaryDirectory(prefix="fcplane-bench-", ignore_cleanup_errors=True) as tmp,
        new_database(args.database, tmp) as url,
    ):
        migrate(url)
        servers = [
            Server(
                name,
                fcplane_env(url, f"{tmp}/{i}", token, FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS="0")
                | settings,
                Path(tmp) / f"{i}.log",
            )
            for i, (name, settings) in enumerate(TARGETS.items())
        ]
        results: dict[str, list[Result]] = {s.name: [] for s in servers}
        counted: dict[str, float] = {}
        try:
            for server in servers:
                server.start()
            seed(servers[0], token, args.accounts)  # type: ignore[arg-type]
            for server in servers:  # warm-up: pools, caches, the first-request path
                measure(server, token, 2, args.connections)
            for _ in range(args.rounds):
                for server in servers:
                    results[server.name].append(
                        measure(server, token, args.duration, args.connections)
                    )
            for server in servers:
                if server.env.get("FCPLANE_METRICS_ENABLED") != "false":
                    counted[server.name] = requests_counted(server, token)
            log_lines = {
                s.name: len(s.log.read_text(errors="replace").splitlines()) for s in servers
            }
        finally:
            for server in servers:
                stop(server.proc)

    off = results["off"]
    print(
        f"\nGET /v1/accounts ({args.accounts} accounts, {args.database}), {args.connections} "
        f"connections, {args.rounds} x {args.duration}s, medians (machine: {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.2f})"
    )
    print(
        f"{'target':<20} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'vs off':>7} "
        f"{'CPU us/req':>10} {'CPU vs off':>10}  rounds (req/s vs off | CPU vs off)"
    )
    for name, runs in results.items():
        ratios = [r.rps / o.rps for r, o in zip(runs, off, strict=True)]
        cpu = [r.cpu_us / o.cpu_us for r, o in zip(runs, off, strict=True)]
        print(
            f"{name:<20} {statistics.median(r.rps for r in runs):>7.0f} "
            f"{statistics.median(r.p50_ms for r in runs):>7.2f} "
            f"{statistics.median(r.p99_ms for r in runs):>7.2f} "
            f"{statistics.median(ratios):>6.3f}x "
            f"{statistics.median(r.cpu_us for r in runs):>10.0f} "
            f"{statistics.median(cpu):>9.3f}x  "
            + " ".join(f"{x:.2f}" for x in ratios)
            + " | "
            + " ".join(f"{x:.2f}" for x in cpu)
        )
    for server in (s for s in servers if s.name in counted):
        print(
            f"{server.name}: /metrics counted {counted[server.name]:.0f} of the "
            f"{server.sent} requests wrk completed; log lines: {log_lines[server.name]}"
        )
    micro()


if __name__ == "__main__":
    main()

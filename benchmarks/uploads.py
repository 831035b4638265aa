"""Code-package uploads: end-to-end time, and how /healthz answers meanwhile.

One fcplane API process (uvicorn) per database. Each round uploads a fresh
40 MiB and a fresh maximum-size package (FCPLANE_CODE_PACKAGE_MAX_BYTES, 100 MiB,
less 1 KiB): zips of random bytes stored uncompressed, sent by curl
(`PUT /v1/code-packages/{sha256}`, application/zip, as in the README) so the
client shares nothing with the poller. Meanwhile this process polls `GET
/healthz` every 20 ms; the same polling with no upload gives the idle row.
Figures per size: curl's total time (median of rounds), the API process's CPU
seconds during the upload, and /healthz p50/p99/max over all rounds' polls.

    python benchmarks/uploads.py [--database sqlite|postgresql|both] [--rounds 3]
                                 [--sizes-mib 40 100] [--interval-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import (
    API_APP,
    ECHO_PY,
    fcplane_env,
    free_port,
    migrate,
    percentile,
    stop,
    uvicorn_process,
    wait_http,
    workspace,
)

MAX_BYTES = 104_857_600  # FCPLANE_CODE_PACKAGE_MAX_BYTES, the default
MiB = 1024 * 1024
ENTRY = 16 * MiB  # random bytes per zip entry
IDLE_S = 3.0


def _zip(sizes: list[int], fill: bool) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("index.py", ECHO_PY)
        for i, size in enumerate(sizes):
            archive.writestr(f"blob-{i:02}.bin", os.urandom(size) if fill else b"x")
    return buffer.getvalue()


def package(total: int) -> bytes:
    """A stored (uncompressed) zip of random bytes, exactly `total` bytes long."""
    count = -(-total // ENTRY)
    overhead = len(_zip([1] * count, fill=False)) - count  # headers only: sizes don't change them
    payload = total - overhead
    sizes = [ENTRY] * (count - 1) + [payload - ENTRY * (count - 1)]
    data = _zip(sizes, fill=True)
    assert len(data) == total, (len(data), total)
    return data


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)


async def poll(url: str, interval: float, stop: asyncio.Event, into: list[float]) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            (await client.get(url)).raise_for_status()
            into.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


async def upload(api: str, token: str, path: Path) -> float:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    proc = await asyncio.create_subprocess_exec(
        *("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-X", "PUT"),
        *("-H", f"Authorization: Bearer {token}", "-H", "content-type: application/zip"),
        *("-H", "Expect:", "--max-time", "600", "--data-binary", f"@{path}"),
        f"{api}/v1/code-packages/{sha}",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    status, seconds = out.decode().split()
    if status != "201":
        raise RuntimeError(f"upload of {path.stat().st_size} bytes answered {status}")
    return float(seconds)


async def measure(
    api: str, token: str, pid: int, path: Path | None, interval: float, row: Row
) -> None:
    stop = asyncio.Event()
    poller = asyncio.create_task(poll(f"{api}/healthz", interval, stop, row.health_ms))
    await asyncio.sleep(0.2)  # the poller's connection is up before the upload starts
    cpu = cpu_seconds(pid)
    if path is None:
        await asyncio.sleep(IDLE_S)
    else:
        row.seconds.append(await upload(api, token, path))
    row.cpu.append(cpu_seconds(pid) - cpu)
    stop.set()
    await poller


def run_one(database: str, args: argparse.Namespace) -> dict[str, Row]:
    port = free_port()
    token = "fcp_" + secrets.token_urlsafe(32)
    sizes = {f"{mib} MiB": min(mib * MiB, MAX_BYTES - 1024) for mib in args.sizes_mib}
    rows = {"idle": Row(), **{label: Row() for label in sizes}}
    with workspace(database, "fcplane-bench-uploads-") as (tmp, url):
        env = fcplane_env(
            url,
            tmp / "api",
            token,
            FCPLANE_CODE_PACKAGE_MAX_BYTES=str(MAX_BYTES),
            FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS="0",
        )
        proc: subprocess.Popen[bytes] | None = None
        try:
            migrate(url)
            proc = uvicorn_process(*API_APP, port=port, env=env)
            api = f"http://127.0.0.1:{port}"
            wait_http(f"{api}/healthz", proc)
            interval = args.interval_ms / 1000
            for _ in range(args.rounds):
                asyncio.run(measure(api, token, proc.pid, None, interval, rows["idle"]))
                for label, size in sizes.items():
                    path = tmp / "code.zip"
                    path.write_bytes(package(size))  # fresh bytes: a new sha256 every time
                    asyncio.run(measure(api, token, proc.pid, path, interval, rows[label]))
                    path.unlink()
        finally:
            stop(proc)
    print(
        f"\n== {database}: {args.rounds} rounds, /healthz every {args.interval_ms:g} ms "
        f"(load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores); sizes: "
        + ", ".join(f"{label} = {size} bytes" for label, size in sizes.items())
    )
    print(
        f"{'upload':<10} {'total s':>8} {'API cpu s':>10} {'polls':>6} "
        f"{'healthz p50 ms':>15} {'p99 ms':>8} {'max ms':>8}"
    )
    for label, row in rows.items():
        total = f"{statistics.median(row.seconds):.2f}" if row.seconds else "-"
        h = row.health_ms
        print(
            f"{label:<10} {total:>8} {statistics.median(row.cpu):>10.2f} {len(h):>6} "
            f"{statistics.median(h):>15.2f} {percentile(h, 0.99):>8.2f} {max(h):>8.2f}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sizes-mib",
        type=int,
        nargs="+",
        default=[40, 100],
        help="package sizes; 100 and more mean the maximum less 1 KiB",
    )
    parser.add_argument("--interval-ms", type=float, default=20, help="/healthz polling interval")
    args = parser.parse_args()
    if not shutil.which("curl"):
        sys.exit("curl is required: apt-get install curl")
    for database in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        run_one(database, args)


if __name__ == "__main__":
    main()

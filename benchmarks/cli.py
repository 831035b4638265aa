"""The fcplane CLI's own cost: `fcplane deploy` of an N-function project whose code did
not change, next to the same API calls made directly, and the start-up of `fcplane --help`.

- deploy: the CLI as a subprocess (`fcplane deploy --yes`: interpreter start, imports,
  parsing the s.yaml, zipping and hashing N code directories, then its API calls) vs
  those API calls from this process over one keep-alive connection, with the zips
  already made: GET the project, HEAD each code package, POST the source (unchanged:
  200), POST the plan, POST the deployment (every resource `unchanged`), GET the
  project for the lock file. The difference is the CLI's overhead.
- start-up: wall time of `fcplane --help`, `fcplane deploy --help` and `fcplane
  --version` (medians), and what `python -X importtime` says `fcplane --help` imports.

fcplane (uvicorn) and the FC emulator run in their own processes. Rounds are
interleaved (CLI, then direct).

    python benchmarks/cli.py [--functions 10] [--rounds 5] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from _common import (
    add_account,
    fcplane_stack,
)

from service.client.packaging import zip_directory

FCPLANE = (sys.executable, "-m", "service")


def write_project(directory: Path, n: int) -> None:
    lines = ["edition: 3.0.0", "name: clibench", "access: default", "resources:"]
    for i in range(n):
        code = directory / f"f{i}"
        code.mkdir(parents=True)
        (code / "index.py").write_text(f"def handler(event, context):\n    return {i}\n")
        lines += [
            f"  f{i}:",
            "    component: fc3",
            "    props:",
            "      region: cn-hangzhou",
            f"      functionName: clibench-f{i}",
            "      runtime: python3.10",
            "      handler: index.handler",
            f"      code: ./f{i}",
        ]
    (directory / "s.yaml").write_text("\n".join(lines) + "\n")


def timed_run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr}")
    return elapsed


def direct(api: httpx.Client, body: dict[str, Any], shas: list[str]) -> float:
    """The deploy's API calls, made directly."""
    started = time.perf_counter()
    head = api.get("/v1/projects/clibench").json()["head_revision"]
    for sha in shas:
        assert api.head(f"/v1/code-packages/{sha}").status_code == 200
    revision = api.post("/v1/projects", json={**body, "base_revision": head})
    assert revision.status_code == 200, revision.text  # unchanged source
    number = revision.json()["number"]
    plan = api.post("/v1/projects/clibench/plan", json={"revision": number, "adopt": False})
    target = plan.json()["target_revision"]
    deployed = api.post(
        "/v1/projects/clibench/deployments",
        json={"revision": number, "adopt": False, "base_revision": target, "strategy": "fail"},
    )
    assert deployed.status_code == 201, deployed.text
    assert {r["status"] for r in deployed.json()["results"]} == {"unchanged"}
    api.get("/v1/projects/clibench").raise_for_status()
    return time.perf_counter() - started


def startup(cwd: Path, env: dict[str, str], rounds: int) -> None:
    for args in (["--help"], ["deploy", "--help"], ["serve", "--help"], ["--version"]):
        times = [timed_run([*FCPLANE, *args], cwd, env) for _ in range(rounds)]
        print(f"  fcplane {' '.join(args):<15} {statistics.median(times) * 1000:5.0f} ms")
    bare = [timed_run([sys.executable, "-c", "pass"], cwd, env) for _ in range(rounds)]
    print(f"  (python -c pass     {statistics.median(bare) * 1000:5.0f} ms)")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "service", "--help"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    cumulative: dict[str, int] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) == 1:  # top-level imports only
            cumulative[match.group(3)] = int(match.group(1))
    top = sorted(cumulative.items(), key=lambda kv: -kv[1])[:6]
    print("  `fcplane --help` imports (top level, cumulative):")
    for name, micros in top:
        print(f"    {name:<28} {micros / 1000:6.1f} ms")


def bench(args: argparse.Namespace, emu: str, api_url: str, token: str, tmp: Path) -> None:
    async def register() -> None:
        async with httpx.AsyncClient(
            base_url=api_url, headers={"Authorization": f"Bearer {token}"}
        ) as api:
            await add_account(api, emu)

    asyncio.run(register())
    project = tmp / "project"
    write_project(project, args.functions)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")},
        "FCPLANE_URL": api_url,
        "FCPLANE_TOKEN": token,
        "FCPLANE_CONFIG_DIR": str(tmp / "config"),
    }
    first = timed_run([*FCPLANE, "deploy", "--yes"], project, env)
    print(f"first deploy ({args.functions} functions created): {first:.2f} s")

    shas = [
        hashlib.sha256(zip_directory(project / f"f{i}")).hexdigest() for i in range(args.functions)
    ]
    lock = json.loads((project / ".fcplane" / "lock.json").read_text())
    assert lock["targets"]["local"]["revision"] == 1
    body = {
        "name": "clibench",
        "files": {"s.yaml": (project / "s.yaml").read_text()},
        "main": "s.yaml",
        "code": {f"./f{i}": sha for i, sha in enumerate(shas)},
        "env": {},
        "message": None,
    }
    cli_s, direct_s = [], []
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=600
    ) as api:
        for round_ in range(args.rounds):
            cli_s.append(timed_run([*FCPLANE, "deploy", "--yes"], project, env))
            direct_s.append(direct(api, body, shas))
            print(
                f"round {round_ + 1}: CLI {cli_s[-1] * 1000:.0f} ms, "
                f"direct API calls {direct_s[-1] * 1000:.0f} ms",
                flush=True,
            )
    c, d = statistics.median(cli_s), statistics.median(direct_s)
    print(
        f"\n{args.functions} functions, unchanged code, {args.database}, medians of "
        f"{args.rounds}:\n"
        f"  fcplane deploy     {c * 1000:6.0f} ms\n"
        f"  same API calls     {d * 1000:6.0f} ms\n"
        f"  CLI overhead       {(c - d) * 1000:6.0f} ms\n"
        "start-up (medians):"
    )
    startup(project, env, args.rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="sqlite")
    args = parser.parse_args()
    with fcplane_stack(args.database) as stack:
        bench(args, stack.emulator, stack.api, stack.token, stack.tmp)


if __name__ == "__main__":
    main()

"""What the benchmark scripts share: ports and processes, the databases they run
on, the code package, and the FC emulator registered as an fcplane account.

A script runs as ``python benchmarks/NAME.py``, which puts this folder first on
``sys.path``: the scripts import this module as ``_common``. (A module that
uvicorn imports in a child process runs with ``--app-dir`` pointing here.)
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
# The emulator's access key, and the account fcplane registers it as.
AK, SK = "bench-ak", "bench-secret-0123456789"
ACCOUNT_ID, REGION = "1234567890", "cn-hangzhou"
# Every function lives in the one emulator account, registered as `local`.
FUNCTIONS = "/v1/accounts/local/functions"
CONFIG = {"runtime": "python3.10", "handler": "index.handler", "memorySize": 512, "cpu": 0.35}
ECHO_PY = "def handler(event, context):\n    return event\n"
# fcplane's API, for `uvicorn`.
API_APP = ("--factory", "service.app:create_app")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def code_zip(source: str = ECHO_PY) -> bytes:
    """A code package: ``source`` as index.py."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


# -- processes -------------------------------------------------------------------------


def uvicorn_process(
    *app: str, port: int, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[bytes]:
    """``uvicorn APP...`` on 127.0.0.1:``port`` (no access log), from the repository root."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port)),
            *("--no-access-log", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
        **popen,
    )


def emulator_process(
    port: int, data_dir: Path | str, *options: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``fcplane emulator`` on ``port``, accepting AK:SK."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "service", "emulator", "--port", str(port)),
            *("--data-dir", str(data_dir), "--access-key", f"{AK}:{SK}", *options),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, ready: bool = False) -> None:
    """Until ``url`` answers a GET (with ``ready``: answers 200); raise when ``proc`` exits
    or a minute has passed."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code == 200 or not ready:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def stop(*procs: subprocess.Popen[bytes] | None) -> None:
    for proc in procs:
        if proc is not None:
            proc.terminate()
            proc.wait(30)


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """The ASGI ``app`` served by uvicorn in this event loop on a free port: its URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def read_body(receive: Receive) -> bytes:
    """The whole body of an ASGI HTTP request."""
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def fc_client(endpoint: str, **config: Any) -> Client:
    """The official FC SDK client for the emulator at ``endpoint``, signing with AK:SK."""
    return Client(
        Config(
            access_key_id=AK,
            access_key_secret=SK,
            region_id=REGION,
            endpoint=endpoint.removeprefix("http://"),
            protocol="http",
            **config,
        )
    )


# -- fcplane's database and API ----------------------------------------------------------


async def _pg(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def new_database(kind: str, directory: Path | str) -> Iterator[str]:
    """The URL of an empty database: ``sqlite``, a file in ``directory``; ``postgresql``,
    a database on the local server, dropped when the block ends."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory}/fcplane.db"
        return
    name = f"fcplane_bench_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def workspace(database: str, prefix: str) -> Iterator[tuple[Path, str]]:
    """A temporary folder, and the URL of an empty ``database`` (its file in that folder
    for ``sqlite``); both gone when the block ends."""
    with (
        tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as tmp,
        new_database(database, tmp) as url,
    ):
        yield Path(tmp), url


def fcplane_env(url: str, data_dir: Path | str, token: str, **settings: str) -> dict[str, str]:
    """The environment of an fcplane process on ``url``, with ``token`` as its admin
    token, and more ``FCPLANE_...`` settings."""
    return {
        **os.environ,
        "FCPLANE_DATABASE_URL": url,
        "FCPLANE_DATA_DIR": str(data_dir),
        "FCPLANE_LOG_LEVEL": "warning",
        "FCPLANE_SECRET_KEY": secrets.token_urlsafe(32),
        "FCPLANE_BOOTSTRAP_TOKEN": token,
        **settings,
    }


def migrate(url: str) -> None:
    """``fcplane db upgrade`` on the database at ``url``."""
    subprocess.run(
        [sys.executable, "-m", "service", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "FCPLANE_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


async def add_account(
    api: httpx.AsyncClient,
    endpoint: str,
    alias: str = "local",
    account_id: str = ACCOUNT_ID,
    default: bool = True,
) -> None:
    """The emulator at ``endpoint`` as an fcplane account."""
    account = {
        "alias": alias,
        "account_id": account_id,
        "region": REGION,
        "endpoint": endpoint,
        "access_key_id": AK,
        "access_key_secret": SK,
        "default": default,
    }
    (await api.post("/v1/accounts", json=account)).raise_for_status()


async def upload_code(api: httpx.AsyncClient, data: bytes) -> str:
    """The code package uploaded: its sha256."""
    sha = hashlib.sha256(data).hexdigest()
    put = await api.put(
        f"/v1/code-packages/{sha}", content=data, headers={"content-type": "application/zip"}
    )
    put.raise_for_status()
    return sha


async def create_function(
    api: httpx.AsyncClient, name: str, config: dict[str, Any], sha: str, base: str = FUNCTIONS
) -> int:
    """A managed function ``name`` under ``base``, deployed once: its head revision."""
    (await api.post(base, json={"name": name})).raise_for_status()
    first = await api.post(
        f"{base}/{name}/deployments",
        json={"config": config, "code_sha256": sha, "base_revision": 0},
    )
    first.raise_for_status()
    return int(first.json()["to_revision"])


@dataclass(frozen=True)
class Stack:
    """fcplane's API and the FC emulator, each in its own process, on a fresh database."""

    emulator: str  # base URL
    api: str  # base URL
    token: str  # admin token
    tmp: Path  # the workspace folder


@contextmanager
def fcplane_stack(database: str, **settings: str) -> Iterator[Stack]:
    """The emulator and fcplane (uvicorn, migrated ``database``) up and healthy; both
    stopped and the workspace removed when the block ends. ``settings``: more
    ``FCPLANE_...`` variables (drift scans are off unless given)."""
    emu_port, api_port = free_port(), free_port()
    token = "fcp_" + secrets.token_urlsafe(32)
    settings.setdefault("FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS", "0")
    with workspace(database, "fcplane-bench-") as (tmp, url):
        env = fcplane_env(url, tmp / "api", token, **settings)
        procs = [emulator_process(emu_port, tmp / "emu", env=env)]
        try:
            migrate(url)
            procs.append(uvicorn_process(*API_APP, port=api_port, env=env))
            emu, api = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{api_port}"
            wait_http(f"{emu}/_emulator/health", procs[0])
            wait_http(f"{api}/healthz", procs[1])
            yield Stack(emu, api, token, tmp)
        finally:
            stop(*procs)

"""The CLI as a user runs it: `fcplane ...` subprocesses against a live `fcplane serve`
(with its bundled emulator as account `local`), one server per test module."""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

from service.accounts.local import local_access_key

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    token: str
    emulator_port: int
    data_dir: Path
    config_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A user's environment: no FCPLANE_* of the test run, the server and token set."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")}
        env.pop("NO_COLOR", None)
        env.update(
            FCPLANE_URL=self.url,
            FCPLANE_TOKEN=self.token,
            FCPLANE_CONFIG_DIR=str(self.config_dir),
            COLUMNS="200",
        )
        env.update(extra)
        return env

    def fc(self) -> Client:
        """The official SDK on the emulator: the "console" of these tests."""
        key_id, key_secret = local_access_key(self.data_dir / "emulator")
        return Client(
            Config(
                access_key_id=key_id,
                access_key_secret=key_secret,
                region_id="cn-hangzhou",
                endpoint=f"127.0.0.1:{self.emulator_port}",
                protocol="http",
            )
        )

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method,
            self.url + path,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            **kwargs,
        )
        response.raise_for_status()
        return response.json() if response.content else None


def serve(tmp: Path, database_url: str | None) -> Iterator[Server]:
    port, emulator_port = free_port(), free_port()
    token = "fcp_" + secrets.token_urlsafe(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")}
    env.update(
        FCPLANE_DATA_DIR=str(tmp / "data"),
        FCPLANE_PORT=str(port),
        FCPLANE_EMULATOR_PORT=str(emulator_port),
        FCPLANE_BOOTSTRAP_TOKEN=token,
        FCPLANE_SECRET_KEY=secrets.token_urlsafe(32),
        FCPLANE_LOG_LEVEL="warning",
    )
    if database_url is not None:
        env["FCPLANE_DATABASE_URL"] = database_url
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"fcplane serve exited: {(tmp / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("fcplane serve did not become ready")
            time.sleep(0.1)
        config = tmp / "config"
        config.mkdir()
        yield Server(url, token, emulator_port, tmp / "data", config)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def fcplane(server: Server, *args: str, cwd: Path, input: str | None = None, **env: str) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=cwd,
        env=server.env(**env),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def in_terminal(
    server: Server, *args: str, cwd: Path, answers: list[tuple[str, str]], **env: str
) -> tuple[int, str]:
    """Run under a pseudo-terminal; when the output shows a prompt, type its answer."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", *args],
        cwd=cwd,
        env=server.env(TERM="xterm", **env),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    seen, searched = b"", 0
    pending = list(answers)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    data = b""
                if not data:
                    break
                seen += data
                while pending and pending[0][0].encode() in seen[searched:]:
                    searched = seen.index(pending[0][0].encode(), searched) + 1
                    os.write(master, pending.pop(0)[1].encode())
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            raise AssertionError(f"no exit in time; output so far:\n{seen.decode()}")
        return proc.wait(30), ANSI.sub("", seen.decode(errors="replace")).replace("\r", "")
    finally:
        os.close(master)


def project_copy(tmp: Path, name: str, function: str | None = None) -> Path:
    """examples/hello as project ``name`` (function ``function``) in a new directory."""
    target = tmp / name
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".fcplane", "__pycache__"))
    syaml = target / "s.yaml"
    text = syaml.read_text().replace("name: hello", f"name: {name}")
    syaml.write_text(text.replace("functionName: hello", f"functionName: {function or name}"))
    return target


def lock_of(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / ".fcplane" / "lock.json").read_text())
    return data

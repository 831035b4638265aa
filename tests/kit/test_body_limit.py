"""Request bodies are bounded before they are read: 413 before authentication and parsing,
and a server that stays flat under oversized bodies."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.deploys.conftest import make_zip

MIB = 1024 * 1024


async def test_a_declared_oversized_body_is_refused_before_authentication(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.post(
        "/v1/accounts",
        content=b"{" + b" " * (2 * MIB) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413  # not 401: nothing past the limit ran
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert problem["limit"] == MIB


async def test_a_streamed_oversized_body_is_cut_off(anonymous: httpx.AsyncClient) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"alias": "'
        for _ in range(64):  # 4 MiB, without a Content-Length (chunked)
            sent += 64 * 1024
            yield b"a" * (64 * 1024)
        yield b'"}'

    response = await anonymous.post(
        "/v1/accounts", content=endless(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert sent <= MIB + 128 * 1024  # reading stopped at the limit


async def test_a_body_within_the_limit_goes_through(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/tokens", json={"name": "ci", "scopes": ["read"]}, headers={"x-pad": "a" * 1000}
    )
    assert response.status_code == 201


async def test_code_packages_keep_their_own_larger_limit(client: httpx.AsyncClient) -> None:
    data = make_zip("def handler(event, context):\n    return 'x'\n# " + "y" * (3 * MIB))
    assert len(data) > 2 * MIB
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    response = await client.put(
        f"/v1/code-packages/{sha}", content=data, headers={"content-type": "application/zip"}
    )
    assert response.status_code == 201, response.text


async def test_environment_variables_are_bounded_as_fc_bounds_them(
    client: httpx.AsyncClient,
) -> None:
    huge = {f"K{i}": "v" * 100 for i in range(50)}  # about 5 KB
    response = await client.post(
        "/v1/accounts/local/functions/any/plan", json={"config": {"environmentVariables": huge}}
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "config.environmentVariables"
    assert "4096" in error["message"]


# -- the server's memory under oversized bodies ---------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A real `fcplane serve` (no emulator): its port and pid."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")}
    env.update(FCPLANE_DATA_DIR=str(tmp_path / "data"), FCPLANE_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--no-emulator"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "fcplane serve did not start"
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _post_huge(port: int, total: int, *, declared: bool) -> int:
    """Send up to ``total`` bytes of body; stop when the server answers. Its status."""
    head = [
        "POST /v1/accounts HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {total}" if declared else "Transfer-Encoding: chunked",
    ]
    piece = b"a" * (256 * 1024)
    chunk = piece if declared else b"%x\r\n%s\r\n" % (len(piece), piece)
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.setblocking(False)
        sent = 0
        while sent < total:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable:
                break
            if writable:
                try:
                    sent += sock.send(chunk)
                except (BlockingIOError, InterruptedError):
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    break
        sock.setblocking(True)
        try:
            while b"\r\n" not in answer:
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
        except ConnectionResetError:
            pass
    status = answer.split(b" ", 2)[1] if answer.count(b" ") >= 2 else b"0"
    return int(status)


def test_memory_stays_flat_under_ten_100_mib_bodies(served: tuple[int, int]) -> None:
    port, pid = served
    for _ in range(20):  # warm the process up (imports, pools) before the baseline
        httpx.get(f"http://127.0.0.1:{port}/readyz")
        httpx.post(f"http://127.0.0.1:{port}/v1/accounts", json={"alias": "x"})
    before = _rss_mb(pid)
    statuses = [_post_huge(port, 100 * MIB, declared=i % 2 == 0) for i in range(10)]
    after = _rss_mb(pid)
    assert statuses == [413] * 10
    assert after - before < 50, (before, after)

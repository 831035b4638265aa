"""`fcplane serve` (with its embedded FC emulator) as an operator runs it: one access line
per API request with its request id, in text or JSON; none for the emulator's requests."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.kit.errors import INSTANCE_PREFIX
from tests.client.conftest import ROOT, free_port


@dataclass
class Served:
    url: str
    emulator_url: str
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def wait_for(self, text: str) -> list[str]:
        """The log's lines once one contains ``text`` (the access line is written after
        the response is sent)."""
        deadline = time.monotonic() + 20
        while not any(text in line for line in self.lines()):
            assert time.monotonic() < deadline, f"no log line with {text!r}:\n{self.log_text}"
            time.sleep(0.05)
        return self.lines()

    @property
    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _serve(tmp: Path, log_format: str) -> Iterator[Served]:
    port, emulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")}
    env.update(
        FCPLANE_DATA_DIR=str(tmp / "data"),
        FCPLANE_PORT=str(port),
        FCPLANE_EMULATOR_PORT=str(emulator_port),
        FCPLANE_BOOTSTRAP_TOKEN="fcp_" + secrets.token_urlsafe(32),
        FCPLANE_SECRET_KEY=secrets.token_urlsafe(32),
        FCPLANE_LOG_LEVEL="info",
        FCPLANE_LOG_FORMAT=log_format,
        FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS="0",
    )
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, f"fcplane serve exited: {log.read_text()}"
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "fcplane serve did not start"
                time.sleep(0.1)
            yield Served(url, f"http://127.0.0.1:{emulator_port}", log)
        finally:
            proc.terminate()
            proc.wait(30)


@pytest.fixture(scope="module")
def text_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("text-log"), "text")


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("json-log"), "json")


def test_text_access_lines_carry_the_request_id(text_server: Served) -> None:
    sent = httpx.get(f"{text_server.url}/readyz", headers={"X-Request-ID": "text-req-1"})
    assert sent.headers["x-request-id"] == "text-req-1"
    generated = httpx.get(f"{text_server.url}/healthz").headers["x-request-id"]
    lines = text_server.wait_for(f"[{generated}]")
    [client_line] = [line for line in lines if "[text-req-1]" in line]
    assert "uvicorn.access" in client_line
    assert '"GET /readyz HTTP/1.1" 200' in client_line
    [generated_line] = [line for line in lines if f"[{generated}]" in line]
    assert '"GET /healthz HTTP/1.1" 200' in generated_line


def test_the_embedded_emulator_keeps_its_own_requests_out_of_the_log(
    text_server: Served,
) -> None:
    # Answered by the emulator (its admin API wants a key: 403 is an answer too).
    answered = httpx.get(f"{text_server.emulator_url}/_emulator/health")
    assert answered.status_code in (200, 403)
    # The API's next request is logged; the emulator's, sent before it, never is.
    marker = httpx.get(f"{text_server.url}/healthz").headers["x-request-id"]
    lines = text_server.wait_for(f"[{marker}]")
    assert not [line for line in lines if "/_emulator/health" in line]
    # Its server's start-up lines too: the one "running on" line is the API's.
    [running] = [line for line in lines if "Uvicorn running on" in line]
    assert text_server.url in running


def test_json_lines_parse_and_carry_the_request_id(json_server: Served) -> None:
    headers = {"X-Request-ID": "json-req-1"}
    missing = httpx.get(f"{json_server.url}/v1/no-such-thing", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "json-req-1"
    assert missing.json()["instance"] == INSTANCE_PREFIX + "json-req-1"
    lines = json_server.wait_for('"json-req-1"')
    # Start-up banners (the emulator's address, a generated token) are plain text on
    # purpose; every log record is one JSON object.
    records: list[dict[str, Any]] = [json.loads(line) for line in lines if line.startswith("{")]
    assert records
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    [access] = [r for r in records if r.get("request_id") == "json-req-1"]
    assert access["logger"] == "uvicorn.access"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/v1/no-such-thing", 404)
    # Records outside any request carry a null id.
    started = [r for r in records if "Application startup complete" in r["message"]]
    assert started
    assert started[0]["request_id"] is None

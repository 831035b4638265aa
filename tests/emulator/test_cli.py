"""`fcplane emulator` options and their help."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from service.cli import app
from service.emulator.credentials import admin_bearer
from service.emulator.settings import access_keys_from_env, parse_access_keys


def test_help_lists_every_option() -> None:
    result = CliRunner().invoke(app, ["emulator", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ["--host", "--port", "--data-dir", "--no-auth", "--access-key"]:
        assert option in result.output


def test_access_key_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_access_keys(["a:b", "c:d,e:f:g"]) == {"a": "b", "c": "d", "e": "f:g"}
    with pytest.raises(ValueError, match="AK:SECRET"):
        parse_access_keys(["nocolon"])
    monkeypatch.setenv("FCPLANE_EMULATOR_ACCESS_KEYS", "x:y")
    assert access_keys_from_env() == {"x": "y"}
    monkeypatch.delenv("FCPLANE_EMULATOR_ACCESS_KEYS")
    assert access_keys_from_env() == {"fcplane-dev": "fcplane-dev-secret"}


def test_bad_access_key_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["emulator", "--access-key", "broken"])
    assert result.exit_code == 2


def test_cli_serves_until_terminated(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from service.cli import main; main()",
            "emulator",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
            "--access-key",
            "k:s",
            "--log-level",
            "warning",
        ],
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(
                    f"http://127.0.0.1:{port}/_emulator/health",
                    headers={"Authorization": f"Bearer {admin_bearer('k', 's')}"},
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator did not start"
                assert proc.poll() is None, "the emulator exited"
                time.sleep(0.1)
        assert health.json()["auth"] is True
        unsigned = httpx.get(f"http://127.0.0.1:{port}/2023-03-30/functions")
        assert unsigned.status_code == 403
    finally:
        proc.terminate()
        # uvicorn shuts down gracefully, then re-raises SIGTERM (exit -15)
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    assert (tmp_path / "emulator.sqlite3").exists()

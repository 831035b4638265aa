"""The `fcplane` command, driven as a user would."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from service.accounts.local import local_access_key
from service.cli import app
from service.emulator.credentials import admin_bearer

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

COMMANDS = [
    ["serve"],
    ["emulator"],
    ["openapi"],
    ["db", "upgrade"],
    ["db", "downgrade"],
    ["db", "check"],
    ["token", "create"],
]


def _options(help_text: str) -> list[str]:
    return sorted(set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"})


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_option_has_a_help_text(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if re.search(r"│\s+--[a-z]", line)]
    assert rows or command == ["openapi"], result.output
    for row in rows:
        option, _, rest = row.strip("│ ").partition(" ")
        described = re.sub(r"<[^>]*>|\[[^]]*\]", "", rest).strip(" │")
        assert described, f"{' '.join(command)} {option} has no help text"


def test_top_level_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    for name in ("serve", "emulator", "db", "token", "openapi"):
        assert name in result.output


def test_openapi_command_matches_committed_schema() -> None:
    result = runner.invoke(app, ["openapi"])
    assert result.exit_code == 0
    committed = (ROOT / "openapi" / "openapi.json").read_text()
    assert json.loads(result.output) == json.loads(committed), (
        "openapi/openapi.json is stale: run `fcplane openapi > openapi/openapi.json`"
    )


def test_invalid_settings_are_reported_without_echoing_them(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["serve", "--environment", "production", "--data-dir", str(tmp_path)],
        env={"FCPLANE_SECRET_KEY": ""},
    )
    assert result.exit_code == 2
    assert "FCPLANE_SECRET_KEY is required" in result.output
    weak = runner.invoke(
        app,
        ["db", "upgrade", "--data-dir", str(tmp_path)],
        env={"FCPLANE_SECRET_KEY": "tooshort-secret"},
    )
    assert weak.exit_code == 2
    assert "tooshort-secret" not in weak.output


def test_token_create_prints_a_working_token(database_url: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["token", "create", "--name", "ci", "--scope", "deploy", "--database-url", database_url],
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("fcp_")
    bad = runner.invoke(
        app, ["token", "create", "--name", "ci", "--scope", "root", "--database-url", database_url]
    )
    assert bad.exit_code == 2
    assert "scope" in bad.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_migrates_bootstraps_and_answers(tmp_path: Path) -> None:
    """The README's two commands: a fresh data dir becomes a working service."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")}
    env.update(FCPLANE_DATA_DIR=str(tmp_path / "data"), FCPLANE_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--no-emulator"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        token = None
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        for line in proc.stderr:
            if line.strip().startswith("fcp_"):
                token = line.strip()
            if "Uvicorn running" in line or time.monotonic() > deadline:
                break
        assert token, "the bootstrap token was not printed"
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/readyz").json()["status"] == "ok"
        accounts = httpx.get(f"{base}/v1/accounts", headers={"Authorization": f"Bearer {token}"})
        assert accounts.status_code == 200
        assert (tmp_path / "data" / "fcplane.db").exists()
        assert (tmp_path / "data" / "secret.key").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def test_serve_runs_the_emulator_as_the_default_account(tmp_path: Path) -> None:
    port, emulator_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")}
    env.update(
        FCPLANE_DATA_DIR=str(tmp_path / "data"),
        FCPLANE_PORT=str(port),
        FCPLANE_EMULATOR_PORT=str(emulator_port),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        token = None
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.strip().startswith("fcp_"):
                token = line.strip()
            if "Uvicorn running" in line:
                break
        assert token
        headers = {"Authorization": f"Bearer {token}"}
        accounts = httpx.get(f"http://127.0.0.1:{port}/v1/accounts", headers=headers).json()
        assert [(a["alias"], a["default"], a["endpoint"]) for a in accounts["items"]] == [
            ("local", True, f"http://127.0.0.1:{emulator_port}")
        ]
        emulator_health = f"http://127.0.0.1:{emulator_port}/_emulator/health"
        assert httpx.get(emulator_health).status_code == 403  # the admin API needs its key
        key_id, key_secret = local_access_key(tmp_path / "data" / "emulator")
        bearer = {"Authorization": f"Bearer {admin_bearer(key_id, key_secret)}"}
        health = httpx.get(emulator_health, headers=bearer).json()
        assert health["status"] == "ok"
        assert health["auth"] is True
        assert health["sandbox"]["mode"] == "bubblewrap"
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz").json()
        assert ready["details"] == {"emulator_sandbox": "bubblewrap"}
        # The account's credentials really work against the emulator.
        missing = httpx.post(
            f"http://127.0.0.1:{port}/v1/accounts/local/functions",
            headers=headers,
            json={"name": "nothing-here", "adopt": True},
        )
        assert missing.status_code == 422
        assert "does not exist in account 'local'" in missing.json()["detail"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()

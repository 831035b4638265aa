"""Without a usable sandbox the emulator refuses to run code, unless told --unsafe-no-sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alibabacloud_fc20230330.client import Client

from tests.emulator.conftest import (
    CONTEXT_PY,
    admin,
    code_of,
    create_function,
    invoke,
    sdk_client,
    start,
)


def test_without_bwrap_every_invoke_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap to be found
    emu = start(tmp_path)
    try:
        fc: Client = sdk_client(emu)
        created = create_function(fc, "f", code=code_of(CONTEXT_PY))
        assert created.state == "Active"  # the function is fine; this machine is not
        answer = invoke(fc, "f")
        assert answer.headers["x-fc-error-type"] == "SandboxUnavailable"
        message = json.loads(answer.body.read())["errorMessage"]
        assert "bubblewrap (bwrap) is not installed" in message
        assert "--unsafe-no-sandbox" in message
        health = admin(emu, "GET", "health").json()["sandbox"]
        assert health["enabled"] is False
        assert health["mode"] == "unavailable"
        assert "bwrap" in health["detail"]
    finally:
        emu.stop()
    refusals = [r for r in caplog.records if "refuses to run function code" in r.getMessage()]
    assert len(refusals) == 1  # one line at start-up
    assert "\n" not in refusals[0].getMessage()


def test_unsafe_no_sandbox_runs_code_and_says_so_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emu = start(tmp_path, unsafe_no_sandbox=True)
    try:
        fc = sdk_client(emu)
        create_function(fc, "f", code=code_of(CONTEXT_PY))
        answer = invoke(fc, "f", b"hi")
        assert answer.headers.get("x-fc-error-type") is None
        assert "index.py" in json.loads(answer.body.read())["codeFiles"]
        health = admin(emu, "GET", "health").json()["sandbox"]
        assert health == {
            "enabled": False,
            "mode": "unsafe-no-sandbox",
            "detail": "started with --unsafe-no-sandbox",
        }
    finally:
        emu.stop()
    assert any("UNSAFE" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")

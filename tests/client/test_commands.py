"""The CLI without a server: lazy loading, help texts, deterministic zips, hooks' rules,
the lock file's shape."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import COMMANDS, app, real_command
from service.client.hooks import allowed
from service.client.lockfile import Lock
from service.client.packaging import zip_directory

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

CLIENT_COMMANDS = [
    ["login"],
    ["logout"],
    ["plan"],
    ["deploy"],
    ["diff"],
    ["drift"],
    ["rollback"],
    ["revisions"],
    ["sync", "function"],
    ["sync", "project"],
    ["fun2s"],
    ["jobs", "run"],
    ["jobs", "show"],
    ["jobs", "list"],
    ["jobs", "cancel"],
    ["jobs", "report"],
]


def _loaded_after(*args: str) -> set[str]:
    """The modules `fcplane ARGS` has imported by the time it exits."""
    code = (
        "import sys\n"
        "from service.cli import app\n"
        "try:\n"
        f"    app({list(args)!r}, prog_name='fcplane')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(done.stderr.split())


def test_top_level_help_loads_neither_the_server_nor_the_client() -> None:
    loaded = _loaded_after("--help")
    assert not {m for m in loaded if m.startswith(("service.client", "service.server_cli"))}
    assert not {"httpx", "sqlalchemy", "fastapi", "pydantic_settings"} & loaded


def test_client_commands_never_load_the_server() -> None:
    loaded = _loaded_after("deploy", "--help")
    assert "service.client.cli" in loaded
    assert not {"service.server_cli", "service.kit.settings", "fastapi", "sqlalchemy"} & loaded
    assert "httpx" not in loaded  # imported by the command body, not by its definition


def test_server_commands_never_load_the_client() -> None:
    loaded = _loaded_after("serve", "--help")
    assert "service.server_cli" in loaded
    assert not {m for m in loaded if m.startswith("service.client")}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_placeholder_help_is_the_commands_own(name: str) -> None:
    own = (real_command(name).help or "").strip().splitlines()[0]
    assert COMMANDS[name][1] == own


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"fcplane \S+\n", result.output)


@pytest.mark.parametrize("command", CLIENT_COMMANDS, ids=" ".join)
def test_every_client_option_has_a_help_text_and_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "fcplane " in result.output.split("Usage:")[1]  # at least one example
    rows = [
        line for line in result.output.splitlines() if re.search(r"│\s+(-[a-zA-Z], )?--[a-z]", line)
    ]
    assert rows, result.output
    for row in rows:
        option = re.search(r"--[a-z][a-z-]*", row)
        assert option is not None
        rest = row[option.end() :]
        described = re.sub(r"<[^>]*>|\[[^]]*\]|-[a-zA-Z]\b|TEXT|INTEGER|PATH", "", rest).strip(" │")
        assert described, f"{' '.join(command)} {option.group()} has no help text"


def test_code_zips_are_deterministic(tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / "lib").mkdir(parents=True)
    (code / "index.py").write_text("print(1)\n")
    (code / "lib" / "util.py").write_text("X = 1\n")
    (code / "bootstrap").write_text("#!/bin/sh\n")
    (code / "bootstrap").chmod(0o700)
    first = zip_directory(code)
    for path in code.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    (code / "__pycache__").mkdir()
    (code / "__pycache__" / "index.cpython-311.pyc").write_bytes(b"\0")
    (code / ".fcplane").mkdir()
    (code / ".fcplane" / "lock.json").write_text("{}")
    second = zip_directory(code)
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()

    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(second)) as archive:
        infos = {i.filename: i for i in archive.infolist()}
    assert list(infos) == ["bootstrap", "index.py", "lib/util.py"]
    assert (infos["bootstrap"].external_attr >> 16) & 0o777 == 0o755
    assert (infos["index.py"].external_attr >> 16) & 0o777 == 0o644
    assert {i.date_time for i in infos.values()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize(
    ("allow_failure", "exit_code", "expected"),
    [
        (True, 1, True),
        ("true", 7, True),
        (False, 1, False),
        ({"exit_code": [3, 4]}, 3, True),
        ({"exit_code": [3, 4]}, 5, False),
        ({"command": ["deploy"]}, 9, True),
        ({"command": ["build"]}, 9, False),
        ({"exit_code": [3], "command": ["deploy"]}, 3, True),
        ({"exit_code": [3], "command": ["build"]}, 3, False),
        ({}, 1, False),
    ],
)
def test_allow_failure_as_serverless_devs_reads_it(
    allow_failure: object, exit_code: int, expected: bool
) -> None:
    assert allowed(allow_failure, exit_code) is expected


def test_the_lock_file_is_sorted_and_round_trips(tmp_path: Path) -> None:
    lock = Lock.load(tmp_path, "shop")
    assert lock.base_revision("prod") == 0
    target = {
        "account": "prod",
        "revision": 4,
        "resources": {
            "frontend": {"function": "shop-frontend", "revision": 2},
            "backend": {"function": "shop-backend", "revision": 7},
        },
    }
    lock.record("prod", "production", target, {"backend": {"./backend": "ab" * 32}})
    lock.save()
    text = (tmp_path / ".fcplane" / "lock.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    again = Lock.load(tmp_path, "shop")
    assert again.base_revision("prod") == 4
    assert again.targets["prod"]["resources"]["backend"] == {
        "function": "shop-backend",
        "revision": 7,
        "code": {"./backend": "ab" * 32},
    }
    assert Lock.load(tmp_path, "renamed").targets == {}  # another project: no bases

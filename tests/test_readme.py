"""The README's promises, checked against a live `fcplane serve`: its SDK snippet runs as
written, `fcplane emulator credentials` prints a working SDK Config, start-up names the
emulator's key without its secret, and the plan lines it quotes are the ones rendered."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

from service.accounts.local import access_key_path, local_access_key
from tests.client.conftest import EXAMPLE, ROOT, Server, serve

README = (ROOT / "README.md").read_text()
# The quick start's config of `hello` (examples/hello/s.yaml), in full.
HELLO = {"runtime": "python3.10", "handler": "index.handler", "memorySize": 128, "timeout": 10}


def marked_block(marker: str) -> str:
    """The fenced code block right after ``<!-- readme-test: MARKER -->``."""
    found = re.search(
        rf"<!-- readme-test: {re.escape(marker)} -->\n```python\n(.*?)\n```", README, re.S
    )
    assert found, f"README.md has no python block marked readme-test: {marker}"
    return found.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tmp_path_factory.mktemp("readme"), None)


@pytest.fixture(scope="module")
def hello(server: Server) -> int:
    """`hello` deployed through the API, as `fcplane deploy` of the quick start does."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.write(EXAMPLE / "code" / "index.py", "index.py")
    code = buffer.getvalue()
    sha = hashlib.sha256(code).hexdigest()
    httpx.put(
        f"{server.url}/v1/code-packages/{sha}",
        content=code,
        headers={"Authorization": f"Bearer {server.token}", "content-type": "application/zip"},
        timeout=30,
    ).raise_for_status()
    server.api("POST", "/v1/accounts/local/functions", json={"name": "hello"})
    deployment = server.api(
        "POST",
        "/v1/accounts/local/functions/hello/deployments",
        json={"config": HELLO, "code_sha256": sha, "base_revision": 0},
    )
    assert deployment["status"] == "succeeded", deployment
    return int(deployment["to_revision"])


def memory_of(fc: Client) -> int:
    body = fc.get_function("hello", models.GetFunctionRequest()).body
    assert body is not None
    return int(body.memory_size)


def test_the_sdk_snippet_edits_the_function_as_written(
    server: Server, hello: int, tmp_path: Path
) -> None:
    snippet = marked_block("sdk-edit")
    # Verbatim, but for the emulator's port (the test's is a free one): run from
    # examples/hello, two levels below the directory holding fcplane-data.
    assert snippet.count("127.0.0.1:9000") == 1
    snippet = snippet.replace("127.0.0.1:9000", f"127.0.0.1:{server.emulator_port}")
    (tmp_path / "fcplane-data").symlink_to(server.data_dir)
    cwd = tmp_path / "examples" / "hello"
    cwd.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-c", snippet], cwd=cwd, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert memory_of(server.fc()) == 256

    # The desired-state paragraph's plan lines are the rendered ones: a partial config
    # resets what it leaves out, and a conflict's plan names each line's side.
    plan = server.api(
        "POST",
        "/v1/accounts/local/functions/hello/plan",
        json={
            "config": {"runtime": "python3.10", "handler": "index.handler"},
            "base_revision": hello,
        },
    )
    assert "~ timeout: 10 => 3   (local)" in plan["text"].splitlines()
    assert "~ memorySize: 128 => 256   (remote)" in plan["text"].splitlines()
    assert "~ timeout: 60 => 3   (local)\n" in README


def credentials(server: Server, *options: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "service", "emulator", "credentials", *options],
        cwd=ROOT,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_emulator_credentials_print_a_working_sdk_config(server: Server, hello: int) -> None:
    where = ["--data-dir", str(server.data_dir), "--emulator-port", str(server.emulator_port)]
    namespace: dict[str, Any] = {}
    exec(credentials(server, *where), namespace)
    assert memory_of(namespace["fc"]) in (128, 256)  # before or after the snippet's edit

    config = json.loads(credentials(server, *where, "-o", "json"))
    assert config["endpoint"] == f"127.0.0.1:{server.emulator_port}"
    assert memory_of(Client(Config(**config))) in (128, 256)


def test_emulator_credentials_without_a_key_file_fail_in_one_line(
    server: Server, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service", "emulator", "credentials", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert str(access_key_path(tmp_path / "emulator")) in done.stderr
    assert not (tmp_path / "emulator").exists()  # reading never creates a key


def test_serve_names_the_emulator_key_but_never_its_secret(server: Server) -> None:
    key_id, secret = local_access_key(server.data_dir / "emulator")
    log = (server.data_dir.parent / "serve.log").read_text()
    assert f"endpoint 127.0.0.1:{server.emulator_port}" in log
    assert f"access key id {key_id}" in log
    assert str(access_key_path(server.data_dir / "emulator").resolve()) in log
    assert f"--emulator-port {server.emulator_port}" in log
    assert secret not in log

"""`fcplane build` and a project's `fc3 build` action as a user runs them: subprocesses
against a live `fcplane serve` (SQLite, its bundled emulator), real pip and sandbox."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alibabacloud_fc20230330 import models

from tests.build.conftest import INDEX_PY, SIX
from tests.client.conftest import Server, fcplane, serve
from tests.conftest import unavailable


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which("bwrap") is None:
        unavailable("bubblewrap", "bwrap is not on PATH")
    yield from serve(tmp_path_factory.mktemp("cli-build"), None)


def code_dir(root: Path, requirements: str) -> Path:
    code = root / "code"
    code.mkdir(parents=True)
    (code / "index.py").write_text(INDEX_PY)
    (code / "requirements.txt").write_text(requirements)
    return code


def test_build_prints_the_built_package_and_fails_with_pips_reason(
    server: Server, tmp_path: Path
) -> None:
    code = code_dir(tmp_path, f"{SIX}\n")
    built = fcplane(server, "build", "code", cwd=tmp_path)
    assert built.code == 0, built.stderr
    sha = built.stdout.strip().splitlines()[-1]
    assert len(sha) == 64
    assert "six==1.17.0" in built.stderr
    assert server.api("GET", f"/v1/code-packages/{sha}")["sha256"] == sha

    again = fcplane(
        server, "build", str(code), "--runtime", "python3.10", "-o", "json", cwd=tmp_path
    )
    assert again.code == 0, again.stderr
    job = again.json()
    assert job["result"]["sha256"] == sha
    assert job["result"]["cached"] is True

    broken = code_dir(tmp_path / "broken", "fcplane-no-such-package-x7q==1.0\n")
    failed = fcplane(server, "build", str(broken), cwd=tmp_path)
    assert failed.code == 1
    assert "fcplane-no-such-package-x7q" in failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr


SYAML = """edition: 3.0.0
name: built
access: default
resources:
  built:
    component: fc3
    actions:
      pre-deploy:
        - component: fc3 build
    props:
      region: cn-hangzhou
      functionName: built
      runtime: python3.10
      handler: index.handler
      code: ./code
"""


def test_deploy_builds_through_the_servers_fc3_build_action(server: Server, tmp_path: Path) -> None:
    code_dir(tmp_path, f"{SIX}\n")
    (tmp_path / "s.yaml").write_text(SYAML)
    done = fcplane(server, "deploy", "-y", cwd=tmp_path)
    assert done.code == 0, done.stderr
    response = server.fc().invoke_function("built", models.InvokeFunctionRequest(body=b"{}"))
    assert response.body.read() == b"1.17.0"

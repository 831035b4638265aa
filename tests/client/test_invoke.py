"""`fcplane invoke` as a user runs it, against a live `fcplane serve` and its emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.conftest import Server, fcplane, project_copy, serve
from tests.client.test_commands import (
    test_every_client_option_has_a_help_text_and_examples as help_is_complete,
)
from tests.conftest import drop_database, make_database


def test_invoke_help_has_examples_and_every_option_described() -> None:
    help_is_complete(["invoke"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("cli-invoke")
    url, name = make_database(tmp)
    try:
        yield from serve(tmp, url)
    finally:
        drop_database(name)


@pytest.fixture(scope="module")
def project(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = project_copy(tmp_path_factory.mktemp("projects"), "invoked")
    deployed = fcplane(server, "deploy", cwd=directory)
    assert deployed.code == 0, deployed.stderr
    return directory


def test_invoke_prints_log_figures_and_answer(server: Server, project: Path) -> None:
    event = json.dumps({"queryParameters": {"name": "cli"}})
    done = fcplane(server, "invoke", "invoked", "--payload", event, cwd=project)
    assert done.code == 0, done.stderr
    assert "Log tail:" in done.stdout
    assert "FC Invoke End RequestId" in done.stdout
    assert "FC request " in done.stdout
    assert "max memory" in done.stdout
    answer = json.loads(done.stdout[done.stdout.index("{") :])
    assert json.loads(answer["body"]) == {"message": "Hello, cli!"}


def test_invoke_json_output_async_and_audit(server: Server, project: Path) -> None:
    done = fcplane(server, "invoke", "invoked", "--async", "-o", "json", cwd=project)
    assert done.code == 0, done.stderr
    result = done.json()
    assert (result["mode"], result["status_code"]) == ("async", 202)
    audit = server.api("GET", "/v1/accounts/local/functions/invoked/invocations")
    assert audit["items"][0]["id"] == result["invocation_id"]
    assert audit["items"][0]["fc_request_id"] == result["fc_request_id"]


def test_a_function_error_exits_1_with_the_error(
    server: Server, project: Path, tmp_path: Path
) -> None:
    event = tmp_path / "event.bin"
    event.write_bytes(b"\x00not json")
    done = fcplane(server, "invoke", "invoked", "--payload-file", str(event), cwd=project)
    assert done.code == 1
    assert "Function error: UnhandledInvocationError" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--payload", "{not json"], "--payload must be JSON"),
        (["--header", "no-colon"], "write it as Name:Value"),
        (["--header", "Host:x"], "reserved"),
        (["--payload", "1", "--payload-file", "x"], "not both"),
    ],
)
def test_bad_input_is_one_line(
    server: Server, project: Path, args: list[str], message: str
) -> None:
    done = fcplane(server, "invoke", "invoked", *args, cwd=project)
    assert done.code == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr

"""`fcplane metrics` as a user runs it, against a live `fcplane serve` and its emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alibabacloud_fc20230330 import models
from darabonba.runtime import RuntimeOptions

from tests.client.conftest import Server, fcplane, project_copy, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # SQLite: the command reads no more of the database than any other command.
    yield from serve(tmp_path_factory.mktemp("metrics-cli"), None)


def test_metrics_prints_a_table_and_json(server: Server, tmp_path: Path) -> None:
    project = project_copy(tmp_path, "watched")
    deployed = fcplane(server, "deploy", cwd=project)
    assert deployed.code == 0, deployed.stderr
    fc = server.fc()
    for _ in range(3):
        fc.invoke_function_with_options(
            "watched",
            models.InvokeFunctionRequest(body=b"{}"),
            models.InvokeFunctionHeaders(),
            RuntimeOptions(),
        )

    shown = fcplane(server, "metrics", "hello", "--since", "10m", cwd=project)
    assert shown.code == 0, shown.stderr
    assert "Function watched in account local: 60 s per row, source emulator" in shown.stdout
    header = next(line for line in shown.stdout.splitlines() if line.startswith("period"))
    assert header.split() == [
        "period",
        "(UTC)",
        "invocations",
        "errors",
        "throttles",
        "avg",
        "ms",
        "p99",
        "ms",
        "instances",
    ]
    assert "total: 3 invocations, 0 errors, 0 throttles" in shown.stdout

    as_json = fcplane(server, "metrics", "watched", "--period", "1", "--since", "5m", "-o", "json",
                      cwd=tmp_path)  # fmt: skip
    assert as_json.code == 0, as_json.stderr
    assert as_json.json()["period"] == 1
    assert as_json.json()["metrics"]["invocations"]["total"] == 3


def test_bad_input_is_one_line(server: Server, tmp_path: Path) -> None:
    since = fcplane(server, "metrics", "hello", "--since", "soon", cwd=tmp_path)
    assert since.code == 2
    assert "90s, 10m, 1h or 7d" in since.stderr
    period = fcplane(server, "metrics", "nobody", "--period", "7", cwd=tmp_path)
    assert period.code == 1
    assert period.stderr.startswith("fcplane: ")

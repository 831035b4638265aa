"""Every client command as a subprocess against a live `fcplane serve` and its emulator:
exit codes, the lock file, conflicts (refused without a terminal, asked on one), hooks,
`-o json`, and bad input answered in one line."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alibabacloud_fc20230330 import models

from tests.client.conftest import (
    Result,
    Server,
    fcplane,
    free_port,
    in_terminal,
    lock_of,
    project_copy,
    serve,
)
from tests.conftest import drop_database, make_database


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("cli-live")
    url, name = make_database(tmp)
    try:
        yield from serve(tmp, url)
    finally:
        drop_database(name)


def edit(directory: Path, old: str, new: str) -> None:
    syaml = directory / "s.yaml"
    text = syaml.read_text()
    assert old in text
    syaml.write_text(text.replace(old, new))


def console_edit(server: Server, function: str, **changes: int) -> None:
    """A change made in FC's console (here: the official SDK on the emulator)."""
    server.fc().update_function(
        function, models.UpdateFunctionRequest(body=models.UpdateFunctionInput(**changes))
    )


def live(server: Server, function: str) -> models.GetFunctionOutput:
    body: models.GetFunctionOutput = (
        server.fc().get_function(function, models.GetFunctionRequest()).body
    )
    return body


def head(server: Server, function: str) -> int:
    return int(server.api("GET", f"/v1/accounts/local/functions/{function}")["head_revision"])


def one_line_error(result: Result) -> str:
    """The run failed with exit 1 and said why in one `fcplane:` line, no traceback."""
    assert result.code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("fcplane:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_deploy_keeps_a_lock_and_skips_unchanged_code(server: Server, tmp_path: Path) -> None:
    project = project_copy(tmp_path, "roundtrip")
    first = fcplane(server, "deploy", cwd=project)
    assert first.code == 0, first.stderr
    assert "Uploading 1 code package(s)" in first.stderr
    assert "pre-deploy of hello: python3 -m py_compile index.py" in first.stderr
    assert "Deployment succeeded: project roundtrip revision 1 → account local." in first.stdout

    path = project / ".fcplane" / "lock.json"
    text = path.read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    lock = lock_of(project)
    entry = lock["targets"]["local"]
    assert (lock["version"], lock["project"], entry["revision"]) == (1, "roundtrip", 1)
    resource = entry["resources"]["hello"]
    assert (resource["function"], resource["revision"]) == ("roundtrip", 1)
    assert re.fullmatch(r"[0-9a-f]{64}", resource["code"]["./code"])

    assert fcplane(server, "plan", "--detailed-exitcode", cwd=project).code == 0
    # The hook left __pycache__ in the code directory: not part of the package.
    assert (project / "code" / "__pycache__").is_dir()
    again = fcplane(server, "deploy", "-o", "json", cwd=project)
    assert again.code == 0, again.stderr
    assert "Uploading" not in again.stderr
    document = again.json()
    assert document["uploaded"] == []
    assert [r["status"] for r in document["deployment"]["results"]] == ["unchanged"]
    assert lock_of(project) == lock

    edit(project, "timeout: 10", "timeout: 15")
    planned = fcplane(server, "plan", "--detailed-exitcode", "-o", "json", cwd=project)
    assert planned.code == 2, planned.stderr
    changes = planned.json()["resources"][0]["plan"]["local_changes"]
    assert planned.json()["changes"] is True
    assert [(c["path"], c["base"], c["value"]) for c in changes] == [("/timeout", 10, 15)]
    assert fcplane(server, "plan", cwd=project).code == 0  # without --detailed-exitcode

    (project / "code" / "index.py").write_text("def handler(event, context):\n    return 'v2'\n")
    deployed = fcplane(server, "deploy", cwd=project)
    assert deployed.code == 0, deployed.stderr
    assert "Uploading 1 code package(s)" in deployed.stderr
    entry = lock_of(project)["targets"]["local"]
    assert entry["revision"] == 3  # `plan` submitted revision 2, the code change made 3
    assert entry["resources"]["hello"]["revision"] == 2
    assert entry["resources"]["hello"]["code"]["./code"] != resource["code"]["./code"]
    assert live(server, "roundtrip").timeout == 15


def test_a_console_edit_is_refused_without_a_terminal_then_merged(
    server: Server, tmp_path: Path
) -> None:
    project = project_copy(tmp_path, "edited")
    assert fcplane(server, "deploy", cwd=project).code == 0
    console_edit(server, "edited", memory_size=256)
    edit(project, "timeout: 10", "timeout: 20")

    planned = fcplane(server, "plan", "--detailed-exitcode", cwd=project)
    assert planned.code == 2
    assert "~ memorySize: 128 => 256   (remote)" in planned.stdout
    assert "~ timeout: 10 => 20   (local)" in planned.stdout

    refused = fcplane(server, "deploy", cwd=project)
    line = one_line_error(refused)
    assert line.startswith("fcplane: conflict: hello changed since this project last deployed")
    assert "--use-local, --use-remote or --merge" in line
    assert "memorySize: 128 => 256" in refused.stdout  # the plan, shown
    assert head(server, "edited") == 1  # nothing deployed

    as_json = fcplane(server, "deploy", "--yes", "-o", "json", cwd=project)
    assert as_json.code == 1
    error = as_json.json()["error"]
    assert error["conflict"] == "stale"
    assert error["plan"]["stale"] == ["hello"]

    merged = fcplane(server, "deploy", "--merge", cwd=project)
    assert merged.code == 0, merged.stderr
    function = live(server, "edited")
    assert (function.memory_size, function.timeout) == (256, 20)
    assert lock_of(project)["targets"]["local"]["resources"]["hello"]["revision"] == 2


def test_a_terminal_is_asked_to_confirm_and_to_resolve_a_conflict(
    server: Server, tmp_path: Path
) -> None:
    project = project_copy(tmp_path, "prompted")
    code, output = in_terminal(
        server, "deploy", cwd=project, answers=[("Deploy to account local? [y/N]", "y\n")]
    )
    assert code == 0, output
    assert "Deployment succeeded" in output

    console_edit(server, "prompted", memory_size=512)
    edit(project, "timeout: 10", "timeout: 12")
    code, output = in_terminal(server, "deploy", cwd=project, answers=[("Choose [", "a\n")])
    assert code == 1, output
    assert "l) use-local" in output
    assert "m) merge" in output
    assert "fcplane: aborted; nothing was deployed" in output
    assert head(server, "prompted") == 1

    code, output = in_terminal(server, "deploy", cwd=project, answers=[("Choose [", "m\n")])
    assert code == 0, output
    assert "Deployment succeeded" in output
    function = live(server, "prompted")
    assert (function.memory_size, function.timeout) == (512, 12)


def test_another_checkouts_deploy_is_a_conflict_the_lock_finds(
    server: Server, tmp_path: Path
) -> None:
    mine = project_copy(tmp_path, "shared")
    assert fcplane(server, "deploy", cwd=mine).code == 0
    theirs = tmp_path / "theirs"
    shutil.copytree(mine, theirs)  # a colleague's checkout, lock file included
    edit(theirs, "timeout: 10", "timeout: 11")
    assert fcplane(server, "deploy", cwd=theirs).code == 0

    edit(mine, "memorySize: 128", "memorySize: 256")
    refused = fcplane(server, "deploy", cwd=mine)
    line = one_line_error(refused)
    assert "runs project revision 2" in line
    assert "checkout's lock recorded revision 1" in line
    assert "--use-local or --use-remote" in line
    assert "merge" not in line.split("again with")[1]
    cannot = one_line_error(fcplane(server, "deploy", "--merge", cwd=mine))
    assert "not with another deploy of the project" in cannot
    assert head(server, "shared") == 2

    kept = fcplane(server, "deploy", "--use-remote", "-o", "json", cwd=mine)
    assert kept.code == 0, kept.stderr
    assert kept.json()["deployment"] is None
    assert lock_of(mine)["targets"]["local"]["revision"] == 2
    assert head(server, "shared") == 2

    edit(theirs, "timeout: 11", "timeout: 12")
    assert fcplane(server, "deploy", cwd=theirs).code == 0
    overwrite = fcplane(server, "deploy", "--use-local", cwd=mine)
    assert overwrite.code == 0, overwrite.stderr
    function = live(server, "shared")
    assert (function.memory_size, function.timeout) == (256, 10)


HOOKS_YAML = """edition: 3.0.0
name: hooks
access: default
actions:
  pre-deploy:
    - run: echo global-pre >> hooks.log && echo printed-by-a-hook
  success-deploy:
    - run: echo global-success >> hooks.log
  fail-deploy:
    - run: echo global-fail >> hooks.log
  post-deploy:
    - run: echo global-complete >> hooks.log
resources:
  a:
    component: fc3
    actions:
      pre-deploy:
        - run: echo a-pre-in-$(basename $PWD) >> ../hooks.log
          path: ./a
      success-deploy:
        - run: echo a-success >> hooks.log
      complete-deploy:
        - run: echo a-complete >> hooks.log
    props: {region: cn-hangzhou, functionName: hooks-a, runtime: python3.10,
            handler: index.handler, code: ./a}
  b:
    component: fc3
    actions:
      pre-deploy:
        - run: echo b-pre >> hooks.log && exit $B_EXIT
          allow_failure: {exit_code: [3]}
      success-deploy:
        - run: echo b-success >> hooks.log
      fail-deploy:
        - run: echo b-fail >> hooks.log
      complete-deploy:
        - run: echo b-complete >> hooks.log
    props: {region: cn-hangzhou, functionName: hooks-b, runtime: python3.10,
            handler: index.handler, code: ./b}
"""


def test_run_actions_run_in_serverless_devs_order_and_a_failure_stops_the_deploy(
    server: Server, tmp_path: Path
) -> None:
    project = tmp_path / "hooks"
    for name in ("a", "b"):
        (project / name).mkdir(parents=True)
        (project / name / "index.py").write_text("def handler(event, context):\n    return 1\n")
    (project / "s.yaml").write_text(HOOKS_YAML)
    log = project / "hooks.log"

    done = fcplane(server, "deploy", "-o", "json", cwd=project)
    assert done.code == 0, done.stderr
    assert "printed-by-a-hook" in done.stderr  # stdout is the JSON document only
    assert [h["exit_code"] for h in done.json()["hooks"]] == [0] * 9
    assert log.read_text().split() == [
        "global-pre",
        "a-pre-in-a",
        "b-pre",
        "a-success",
        "a-complete",
        "b-success",
        "b-complete",
        "global-success",
        "global-complete",
    ]

    log.unlink()
    (project / "a" / "index.py").write_text("def handler(event, context):\n    return 2\n")
    failed = fcplane(server, "deploy", cwd=project, B_EXIT="4")
    line = one_line_error(failed)
    assert line == "fcplane: pre-deploy of b `echo b-pre >> hooks.log && exit $B_EXIT` failed " + (
        "(exit 4); nothing was deployed"
    )
    assert log.read_text().split() == [
        "global-pre",
        "a-pre-in-a",
        "b-pre",
        "b-fail",
        "b-complete",
        "global-fail",
        "global-complete",
    ]
    assert head(server, "hooks-a") == 1  # a's new code was not deployed

    allowed = fcplane(server, "deploy", cwd=project, B_EXIT="3")
    assert allowed.code == 0, allowed.stderr
    assert "fcplane: warning: pre-deploy of b failed (exit 3), allowed by allow_failure" in (
        allowed.stderr
    )
    assert head(server, "hooks-a") == 2


def test_revisions_diff_and_rollback(server: Server, tmp_path: Path) -> None:
    project = project_copy(tmp_path, "history")
    assert fcplane(server, "deploy", cwd=project).code == 0
    edit(project, "timeout: 10", "timeout: 15")
    assert fcplane(server, "deploy", "-m", "longer timeout", cwd=project).code == 0

    listed = fcplane(server, "revisions", "-o", "json", cwd=project)
    assert [r["number"] for r in listed.json()["items"]] == [2, 1]
    assert listed.json()["items"][0]["message"] == "longer timeout"
    table = fcplane(server, "revisions", cwd=project)
    assert "DEPLOYED TO" in table.stdout
    assert re.search(r"^2\s+local\s", table.stdout, re.M), table.stdout
    revisions = fcplane(server, "revisions", "history", "-o", "json", cwd=project).json()
    assert revisions["head"] == 2

    diff = fcplane(server, "diff", "history", cwd=project)
    assert diff.code == 0
    assert "~ timeout: 10 => 15" in diff.stdout
    as_json = fcplane(
        server, "diff", "history", "--from", "1", "--to", "2", "-o", "json", cwd=tmp_path
    )
    assert [c["path"] for c in as_json.json()["changes"]] == ["/timeout"]

    back = fcplane(server, "rollback", "--to", "1", "--yes", cwd=project)
    assert back.code == 0, back.stderr
    assert lock_of(project)["targets"]["local"]["revision"] == 1
    assert live(server, "history").timeout == 10

    one = fcplane(server, "rollback", "history", "--to", "2", "--yes", "-o", "json", cwd=tmp_path)
    assert one.code == 0, one.stderr
    assert one.json()["kind"] == "rollback"
    assert live(server, "history").timeout == 15


def test_drift_of_the_project_one_function_and_all(server: Server, tmp_path: Path) -> None:
    project = project_copy(tmp_path, "drifty")
    assert fcplane(server, "deploy", cwd=project).code == 0
    clean = fcplane(server, "drift", "--detailed-exitcode", cwd=project)
    assert clean.code == 0
    assert "drifty (local): in sync" in clean.stdout

    console_edit(server, "drifty", memory_size=1024)
    drifted = fcplane(server, "drift", "--detailed-exitcode", "-o", "json", cwd=project)
    assert drifted.code == 2
    [check] = drifted.json()["checks"]
    assert check["drifted"] is True
    one = fcplane(server, "drift", "drifty", cwd=tmp_path)
    assert one.code == 0  # drift is not an error without --detailed-exitcode
    assert "~ memorySize: 128 => 1024" in one.stdout
    everything = fcplane(server, "drift", "--all", "-o", "json", cwd=tmp_path)
    assert everything.code == 0
    assert "local/drifty" in everything.json()["drifted"]


FUNCRAFT = """ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Resources:
  demo:
    Type: 'Aliyun::Serverless::Service'
    Properties:
      Description: migrated from Funcraft
    hello:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.9
        CodeUri: ./code
"""


def test_sync_and_fun2s_write_files(server: Server, tmp_path: Path) -> None:
    project = project_copy(tmp_path, "syncme")
    assert fcplane(server, "deploy", cwd=project).code == 0

    synced = fcplane(server, "sync", "function", "syncme", "-d", "out", "-o", "json", cwd=tmp_path)
    assert synced.code == 0, synced.stderr
    assert {"cn-hangzhou_syncme.yaml", "cn-hangzhou_syncme/index.py"} <= set(synced.json()["files"])
    assert "handler" in (tmp_path / "out" / "cn-hangzhou_syncme" / "index.py").read_text()
    refused = one_line_error(
        fcplane(server, "sync", "function", "syncme", "-d", "out", cwd=tmp_path)
    )
    assert "exists" in refused
    assert (
        fcplane(server, "sync", "function", "syncme", "-d", "out", "--force", cwd=tmp_path).code
        == 0
    )
    whole = fcplane(server, "sync", "project", "-d", "../live", cwd=project)
    assert whole.code == 0, whole.stderr
    assert "Wrote project syncme" in whole.stdout

    (tmp_path / "template.yml").write_text(FUNCRAFT)
    converted = fcplane(server, "fun2s", "template.yml", "--target", "s.yaml", cwd=tmp_path)
    assert converted.code == 0, converted.stderr
    assert "edition: 3.0.0" in (tmp_path / "s.yaml").read_text()
    as_json = fcplane(server, "fun2s", "template.yml", "-o", "json", cwd=tmp_path)
    assert "functionName" in as_json.json()["syaml"]


def test_jobs_run_wait_report_and_fail_when_the_job_does_not_succeed(
    server: Server, tmp_path: Path
) -> None:
    project = project_copy(tmp_path, "loaded")
    assert fcplane(server, "deploy", cwd=project).code == 0
    args = ("jobs", "run", "stress", "loaded", "-p", "duration_s=2", "-p", "users=1", "--wait")
    done = fcplane(server, *args, "--report", "stress.html", "-o", "json", cwd=project)
    assert done.code == 0, done.stderr
    job = done.json()
    assert job["status"] == "succeeded"
    assert job["report_file"] == "stress.html"
    assert "<html" in (project / "stress.html").read_text().lower()
    assert "running" in done.stderr  # progress, on stderr without a terminal

    saved = fcplane(server, "jobs", "report", job["id"], "-o", "again.html", cwd=project)
    assert saved.code == 0, saved.stderr
    assert (project / "again.html").stat().st_size > 0
    result = fcplane(server, "jobs", "report", job["id"], "-o", "json", cwd=project).json()
    assert result["result"]["requests"] > 0
    assert (
        fcplane(server, "jobs", "show", job["id"], "-o", "json", cwd=project).json()["id"]
        == (job["id"])
    )

    long = ("jobs", "run", "stress", "loaded", "-p", "duration_s=60", "-p", "users=1", "--wait")
    waiting = subprocess.Popen(
        [sys.executable, "-m", "service", *long],
        cwd=project,
        env=server.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        running = None
        deadline = time.monotonic() + 30
        while running is None and time.monotonic() < deadline:
            jobs = fcplane(server, "jobs", "list", "-o", "json", cwd=project).json()["items"]
            running = next((j for j in jobs if j["status"] in ("queued", "running")), None)
        assert running is not None
        assert fcplane(server, "jobs", "cancel", running["id"], cwd=project).code == 0
        stdout, stderr = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
    assert waiting.returncode == 1, stderr
    assert "cancelled" in stdout


def test_bad_input_is_one_line_and_exit_1(server: Server, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no s.yaml in" in one_line_error(fcplane(server, "deploy", cwd=empty))
    missing = one_line_error(fcplane(server, "plan", "-t", "nope.yaml", cwd=empty))
    assert "nope.yaml: no such file" in missing

    project = project_copy(tmp_path, "broken")
    (project / "s.yaml").write_text((project / "s.yaml").read_text().replace("./code", "./gone"))
    assert "'./gone' does not exist" in one_line_error(fcplane(server, "deploy", cwd=project))

    (project / "s.yaml").write_text((project / "s.yaml").read_text().replace("./gone", "./code"))
    code_dir = project / "code"
    if os.geteuid() == 0:  # root reads anything: a file that cannot be read at all
        (code_dir / "data.bin").symlink_to(tmp_path / "no-such-file")
    else:
        code_dir.chmod(0)
    try:
        unreadable = one_line_error(fcplane(server, "deploy", "--skip-actions", cwd=project))
    finally:
        code_dir.chmod(stat.S_IRWXU)
    assert "cannot read the code of './code'" in unreadable

    (project / "s.yaml").write_text("edition: 3.0.0\nname: broken\nvars:\n  x: ${nope()}\n")
    assert "unknown function" in one_line_error(fcplane(server, "plan", cwd=project))

    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = one_line_error(fcplane(server, "revisions", "x", FCPLANE_URL=nowhere, cwd=empty))
    assert f"cannot reach fcplane at {nowhere}" in unreachable
    refused = one_line_error(
        fcplane(server, "jobs", "list", FCPLANE_TOKEN="fcp_" + "x" * 40, cwd=empty)
    )
    assert "refused the credentials (HTTP 401" in refused
    as_json = fcplane(
        server, "jobs", "list", "-o", "json", FCPLANE_TOKEN="fcp_" + "x" * 40, cwd=empty
    )
    assert as_json.json()["error"]["status"] == 401


def test_login_saves_a_private_context_that_later_commands_use(
    server: Server, tmp_path: Path
) -> None:
    env = server.env()
    env.pop("FCPLANE_URL")
    env.pop("FCPLANE_TOKEN")

    def run(*args: str, input: str | None = None) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "service", *args],
            cwd=tmp_path,
            env=env,
            input=input or "",
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    assert "no token" in one_line_error(run("jobs", "list"))
    assert "HTTP 401" in one_line_error(run("login", server.url, input="fcp_" + "y" * 40 + "\n"))
    logged = run("login", server.url, "-o", "json", input=server.token + "\n")
    assert logged.code == 0, logged.stderr
    path = Path(logged.json()["context"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": server.url, "token": server.token}
    assert run("jobs", "list", "-o", "json").code == 0

    path.chmod(0o644)
    assert "can be read by other users (mode 0644)" in one_line_error(run("jobs", "list"))
    assert run("logout").code == 0
    assert not path.exists()

"""The API as a client generated from openapi/openapi.json sees it, against a live server.

CI generates the client with openapi-python-client (no config, no warnings) and points
FCPLANE_CONTRACT_CLIENT at it; this module then drives a real `fcplane serve` (with its
FC emulator) through that client only, and `mypy --strict` checks it with the client's
types: a console edit reaches the client as a typed plan, a stress job's params and
result are typed. Without the variable the module is skipped (with CI=true: failed).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client as FcClient
from alibabacloud_tea_openapi.models import Config

from service.accounts.local import LOCAL_ALIAS, LOCAL_REGION, local_access_key

ROOT = Path(__file__).resolve().parents[2]
GENERATED = os.environ.get("FCPLANE_CONTRACT_CLIENT")
if not GENERATED or not (Path(GENERATED) / "fcplane_client").is_dir():
    why = "FCPLANE_CONTRACT_CLIENT does not point at a generated client (see .ci/run)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why + "; CI=true requires it", pytrace=False)
    pytest.skip(why, allow_module_level=True)
sys.path.insert(0, str(GENERATED))

from fcplane_client import AuthenticatedClient  # noqa: E402
from fcplane_client.api.code_packages import upload_code_package  # noqa: E402
from fcplane_client.api.deployments import create_deployment  # noqa: E402
from fcplane_client.api.drift import check_function_drift  # noqa: E402
from fcplane_client.api.functions import list_revisions, register_function  # noqa: E402
from fcplane_client.api.jobs import create_job, get_job  # noqa: E402
from fcplane_client.api.tokens import create_token  # noqa: E402
from fcplane_client.models import (  # noqa: E402
    CodePackageOut,
    ConflictProblem,
    DeploymentOut,
    DeployRequest,
    DriftCheckOut,
    FunctionConfig,
    FunctionCreate,
    FunctionOut,
    JobStatus,
    PageRevisionOut,
    PlanOut,
    Scope,
    Strategy,
    StressJob,
    StressJobCreate,
    StressParams,
    StressResult,
    TokenCreate,
    TokenCreated,
)
from fcplane_client.types import File, Response  # noqa: E402

T = TypeVar("T")
FUNCTION = "contract"
SOURCE = "def handler(event, context):\n    return event\n"


@dataclass(frozen=True)
class Live:
    url: str
    token: str
    fc: FcClient


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _parsed(response: Response[Any], status: HTTPStatus, expected: type[T]) -> T:
    """The body of ``response``, which must have ``status`` and parse as ``expected``."""
    assert response.status_code == status, response.content
    parsed = response.parsed
    assert isinstance(parsed, expected), parsed
    return parsed


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """`fcplane serve` with its emulator, on free ports, in a fresh data directory."""
    data = tmp_path_factory.mktemp("contract")
    port, emulator_port = _free_port(), _free_port()
    token = "fcp_" + secrets.token_urlsafe(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")}
    env.update(FCPLANE_BOOTSTRAP_TOKEN=token, FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS="0")
    command = [sys.executable, "-m", "service", "serve", "--data-dir", str(data)]
    command += ["--port", str(port), "--emulator-port", str(emulator_port)]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"fcplane serve exited with {proc.returncode}"
            assert time.monotonic() < deadline, "fcplane serve did not become ready"
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        key_id, key_secret = local_access_key(data / "emulator")
        fc = FcClient(
            Config(
                access_key_id=key_id,
                access_key_secret=key_secret,
                region_id=LOCAL_REGION,
                endpoint=f"127.0.0.1:{emulator_port}",
                protocol="http",
            )
        )
        yield Live(url, token, fc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", SOURCE)
    return buffer.getvalue()


def test_a_generated_client_deploys_resolves_a_conflict_and_runs_a_stress_job(
    live: Live,
) -> None:
    with AuthenticatedClient(base_url=live.url, token=live.token) as admin:
        made = create_token.sync_detailed(
            client=admin, body=TokenCreate(name="contract", scopes=[Scope.READ, Scope.DEPLOY])
        )
    token = _parsed(made, HTTPStatus.CREATED, TokenCreated).token
    with AuthenticatedClient(base_url=live.url, token=token) as ci:
        _story(live, ci)


def _story(live: Live, ci: AuthenticatedClient) -> None:
    # Code travels once, by content, as application/octet-stream.
    code = _code_zip()
    sha = hashlib.sha256(code).hexdigest()
    uploaded = upload_code_package.sync_detailed(
        sha, client=ci, body=File(payload=io.BytesIO(code), mime_type="application/octet-stream")
    )
    package = _parsed(uploaded, HTTPStatus.CREATED, CodePackageOut)
    assert (package.sha256, package.size) == (sha, len(code))
    assert package.crc64.isdigit()
    assert uploaded.headers["location"] == f"/v1/code-packages/{sha}"

    registered = register_function.sync_detailed(
        LOCAL_ALIAS, client=ci, body=FunctionCreate(name=FUNCTION)
    )
    assert _parsed(registered, HTTPStatus.CREATED, FunctionOut).head_revision == 0
    assert registered.headers["location"] == f"/v1/accounts/{LOCAL_ALIAS}/functions/{FUNCTION}"

    config = FunctionConfig(runtime="python3.10", handler="index.handler", memory_size=512)
    first = create_deployment.sync_detailed(
        LOCAL_ALIAS,
        FUNCTION,
        client=ci,
        body=DeployRequest(config=config, code_sha256=sha, base_revision=0),
    )
    deployed = _parsed(first, HTTPStatus.CREATED, DeploymentOut)
    assert deployed.to_revision == 1
    assert first.headers["location"] == f"/v1/deployments/{deployed.id}"

    # Somebody edits the function in the console, through the official SDK.
    live.fc.update_function(
        FUNCTION,
        fc_models.UpdateFunctionRequest(
            body=fc_models.UpdateFunctionInput(description="edited in the console")
        ),
    )

    # The next deploy (a longer timeout) is refused with the plan, typed.
    config.timeout = 20
    refused = create_deployment.sync_detailed(
        LOCAL_ALIAS, FUNCTION, client=ci, body=DeployRequest(config=config, base_revision=1)
    )
    problem = _parsed(refused, HTTPStatus.CONFLICT, ConflictProblem)
    assert problem.code == "drift_conflict"
    assert isinstance(problem.plan, PlanOut)
    assert problem.plan.drifted
    assert [c.path for c in problem.plan.local_changes] == ["/timeout"]
    assert [(c.path, c.value) for c in problem.plan.remote_changes] == [
        ("/description", "edited in the console")
    ]
    assert problem.plan.conflicts == []
    assert [p.path for p in problem.plan.local_patch] == ["/timeout"]

    merged = create_deployment.sync_detailed(
        LOCAL_ALIAS,
        FUNCTION,
        client=ci,
        body=DeployRequest(config=config, base_revision=1, strategy=Strategy.MERGE),
    )
    assert _parsed(merged, HTTPStatus.CREATED, DeploymentOut).to_revision == 2

    listed = list_revisions.sync_detailed(LOCAL_ALIAS, FUNCTION, client=ci)
    revisions = _parsed(listed, HTTPStatus.OK, PageRevisionOut).items
    assert [r.number for r in revisions] == [2, 1]
    head = revisions[0].config.to_dict()
    assert (head["timeout"], head["description"]) == (20, "edited in the console")

    checked = check_function_drift.sync_detailed(LOCAL_ALIAS, FUNCTION, client=ci)
    drift = _parsed(checked, HTTPStatus.OK, DriftCheckOut)
    assert not drift.drifted
    assert drift.changes == []

    # A stress job: typed params in, a typed result out.
    params = StressParams(duration_s=2, users=2, payload=json.dumps({"hello": "contract"}))
    queued = create_job.sync_detailed(
        client=ci,
        body=StressJobCreate(kind="stress", account=LOCAL_ALIAS, function=FUNCTION, params=params),
    )
    job = _parsed(queued, HTTPStatus.ACCEPTED, StressJob)
    assert queued.headers["location"] == f"/v1/jobs/{job.id}"
    deadline = time.monotonic() + 120
    while job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        assert time.monotonic() < deadline, "the stress job did not finish"
        time.sleep(0.5)
        job = _parsed(get_job.sync_detailed(job.id, client=ci), HTTPStatus.OK, StressJob)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params.users == 2
    assert isinstance(job.result, StressResult)
    assert job.result.requests > 0
    assert job.result.failures.total == 0
    assert job.result.users == 2
    assert {link.name: link.url for link in job.reports} == {
        "summary": f"{live.url}/v1/jobs/{job.id}/report",
        "locust": f"{live.url}/v1/jobs/{job.id}/report/locust",
    }

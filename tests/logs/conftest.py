"""Logs tests: fcplane's API against a live FC emulator, which also answers SLS's GetLogs.

Functions are deployed through fcplane's API with a logConfig, invoked through
the official FC SDK (so they log), and their logs read back through fcplane,
which reads them through the official SLS SDK from the emulator.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

from service.app import create_app
from service.emulator.server import EmbeddedEmulator
from service.kit.settings import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.deploys.conftest import deploy, make_zip, upload
from tests.fc import AK, SK, register_account, reset, running_emulator

PROJECT, LOGSTORE = "fcplane-logs", "functions"
LOG_CONFIG = {"project": PROJECT, "logstore": LOGSTORE}
# Prints its payload and logs a marker through FC's context logger.
LOGGING_PY = """
def handler(event, context):
    text = event.decode()
    print("payload " + text)
    context.getLogger().info("handled " + text)
    return text
"""


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    with running_emulator(tmp_path_factory.mktemp("fc")) as emulator:
        yield emulator


@pytest.fixture
def fc(emulator: EmbeddedEmulator) -> Iterator[Client]:
    """FC's own SDK, to invoke functions (as their callers do)."""
    yield Client(
        Config(
            access_key_id=AK,
            access_key_secret=SK,
            region_id="cn-hangzhou",
            endpoint=emulator.endpoint,
            protocol="http",
            read_timeout=30000,
        )
    )
    reset(emulator)


@pytest.fixture
async def fc_account(client: httpx.AsyncClient, emulator: EmbeddedEmulator, fc: Client) -> str:
    return await register_account(client, emulator)


async def deploy_function(
    client: httpx.AsyncClient, name: str, source: str = LOGGING_PY, **config: Any
) -> None:
    """Register and deploy ``name`` through fcplane's API."""
    sha = await upload(client, make_zip(source))
    registered = await client.post("/v1/accounts/local/functions", json={"name": name})
    assert registered.status_code == 201, registered.text
    body = {"runtime": "python3.10", "handler": "index.handler", "timeout": 10, **config}
    deployed = await deploy(client, name, body, None, code_sha256=sha)
    assert deployed.status_code == 201, deployed.text


def invoke(fc: Client, name: str, payload: str) -> str:
    """Invoke through FC's SDK; FC's request id."""
    response = fc.invoke_function(name, fc_models.InvokeFunctionRequest(body=payload.encode()))
    request_id: str = response.headers["x-fc-request-id"]
    return request_id


@pytest.fixture
def live_fcplane(database_url: str, tmp_path: Path, admin_token: str) -> Iterator[str]:
    """fcplane over real HTTP (a followed stream needs a real connection); its base URL."""
    app = create_app(
        Settings(
            database_url=database_url,
            data_dir=tmp_path / "fcplane-data",
            secret_key=TEST_SECRET_KEY,
            bootstrap_token=admin_token,
        )
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "fcplane did not start"
        assert thread.is_alive(), "fcplane exited"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)

"""Deploy tests run fcplane's API against a live FC emulator, through the official SDK."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

from service.emulator.server import EmbeddedEmulator
from tests.fc import AK, SK, register_account, reset, running_emulator


def make_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


def handler_returning(text: str) -> bytes:
    return make_zip(f"def handler(event, context):\n    return {text!r}\n")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    with running_emulator(tmp_path_factory.mktemp("fc")) as emulator:
        yield emulator


@pytest.fixture
def fc(emulator: EmbeddedEmulator) -> Iterator[Client]:
    """Another user, changing functions straight through the SDK (as in the console)."""
    yield Client(
        Config(
            access_key_id=AK,
            access_key_secret=SK,
            region_id="cn-hangzhou",
            endpoint=emulator.endpoint,
            protocol="http",
        )
    )
    reset(emulator)


@pytest.fixture
async def fc_account(client: httpx.AsyncClient, emulator: EmbeddedEmulator, fc: Client) -> str:
    return await register_account(client, emulator)


async def upload(client: httpx.AsyncClient, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    response = await client.put(
        f"/v1/code-packages/{sha}", content=data, headers={"content-type": "application/zip"}
    )
    assert response.status_code in (200, 201), response.text
    return sha


async def deploy(
    client: httpx.AsyncClient, name: str, config: dict[str, Any], base: int | None, **extra: Any
) -> httpx.Response:
    body: dict[str, Any] = {"config": config, **extra}
    if base is not None:
        body["base_revision"] = base
    return await client.post(f"/v1/accounts/local/functions/{name}/deployments", json=body)


BASE_CONFIG = {
    "runtime": "python3.10",
    "handler": "index.handler",
    "memorySize": 512,
    "cpu": 0.35,
    "timeout": 3,
}


async def first_deploy(
    client: httpx.AsyncClient, name: str = "hello", **overrides: Any
) -> dict[str, Any]:
    sha = await upload(client, handler_returning("v1"))
    registered = await client.post("/v1/accounts/local/functions", json={"name": name})
    assert registered.status_code == 201, registered.text
    response = await deploy(client, name, {**BASE_CONFIG, **overrides}, None, code_sha256=sha)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def live(fc: Client, name: str) -> Any:
    return fc.get_function(name, fc_models.GetFunctionRequest()).body


def sdk_update(fc: Client, name: str, **fields: Any) -> None:
    fc.update_function(
        name, fc_models.UpdateFunctionRequest(body=fc_models.UpdateFunctionInput(**fields))
    )


def sdk_code(source: str) -> fc_models.InputCodeLocation:
    return fc_models.InputCodeLocation(zip_file=base64.b64encode(make_zip(source)).decode())


def live_tags(fc: Client, name: str) -> dict[str, str]:
    return {t.key: t.value for t in live(fc, name).tags or []}


def sdk_tag(fc: Client, name: str, tags: dict[str, str]) -> None:
    """Tag the live function straight through FC's tag API, as a console user would."""
    fc.tag_resources(
        fc_models.TagResourcesRequest(
            body=fc_models.TagResourcesInput(
                resource_id=[live(fc, name).function_arn],
                resource_type="function",
                tag=[fc_models.Tag(key=k, value=v) for k, v in tags.items()],
            )
        )
    )


def wire_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]

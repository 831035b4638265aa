"""Project tests: the API over HTTP, two emulator-backed accounts (`local` = test, `prod`)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

from service.emulator.server import EmbeddedEmulator, start_in_thread
from tests.deploys.conftest import emulator, fc, fc_account, upload
from tests.fc import ACCOUNT_ID, REGION, reset

__all__ = ["emulator", "fc", "fc_account"]

PROD_AK, PROD_SK = "prod-ak", "prod-secret-0123456789"
PROD_ACCOUNT_ID = "9876543210"


@pytest.fixture(scope="session")
def prod_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    with start_in_thread(
        "127.0.0.1", 0, tmp_path_factory.mktemp("fc-prod"), {PROD_AK: PROD_SK}
    ) as emulator:
        yield emulator


@pytest.fixture
def prod_fc(prod_emulator: EmbeddedEmulator) -> Iterator[Client]:
    yield Client(
        Config(
            access_key_id=PROD_AK,
            access_key_secret=PROD_SK,
            region_id=REGION,
            endpoint=prod_emulator.endpoint,
            protocol="http",
        )
    )
    httpx.post(
        f"{prod_emulator.url}/_emulator/reset",
        json={"state": True},
        headers={"Authorization": f"Bearer {_admin(PROD_AK, PROD_SK)}"},
    ).raise_for_status()


def _admin(ak: str, sk: str) -> str:
    from service.emulator.credentials import admin_bearer

    return admin_bearer(ak, sk)


@pytest.fixture
async def prod_account(
    client: httpx.AsyncClient, prod_emulator: EmbeddedEmulator, prod_fc: Client
) -> str:
    response = await client.post(
        "/v1/accounts",
        json={
            "alias": "prod",
            "account_id": PROD_ACCOUNT_ID,
            "region": REGION,
            "endpoint": prod_emulator.url,
            "access_key_id": PROD_AK,
            "access_key_secret": PROD_SK,
        },
    )
    assert response.status_code == 201, response.text
    return "prod"


def code_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def handler_zip(answer: str = "ok") -> bytes:
    return code_zip({"index.py": f"def handler(event, context):\n    return {answer!r}\n"})


async def put_project(
    client: httpx.AsyncClient,
    name: str,
    syaml: str,
    *,
    code: dict[str, bytes] | None = None,
    expect: int = 201,
    **extra: Any,
) -> dict[str, Any]:
    shas = {path: await upload(client, data) for path, data in (code or {}).items()}
    body: dict[str, Any] = {"name": name, "files": {"s.yaml": syaml}, "code": shas, **extra}
    response = await client.post("/v1/projects", json=body)
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def plan(client: httpx.AsyncClient, name: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/v1/projects/{name}/plan", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def deploy(
    client: httpx.AsyncClient, name: str, expect: int = 201, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/v1/projects/{name}/deployments", json=body)
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


__all__ += ["ACCOUNT_ID", "reset"]

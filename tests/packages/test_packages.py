from __future__ import annotations

import hashlib
import io
import zipfile

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.emulator.checksum import code_checksum
from service.kit.settings import Settings
from tests.deploys.conftest import handler_returning


async def test_stored_once_by_content(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    data = handler_returning("hi")
    sha = hashlib.sha256(data).hexdigest()
    path = f"/v1/code-packages/{sha}"
    assert (await client.head(path)).status_code == 404
    assert (await client.get(path)).status_code == 404
    # Generated clients send application/octet-stream; curl users application/zip.
    first = await client.put(
        path, content=data, headers={"content-type": "application/octet-stream"}
    )
    second = await client.put(path, content=data, headers={"content-type": "application/zip"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.headers["location"] == path
    assert "location" not in second.headers
    stored = {"sha256": sha, "size": len(data), "crc64": code_checksum(data)}
    assert first.json() == second.json() == stored
    assert (await client.head(path)).status_code == 200
    assert (await client.get(path)).json() == stored
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT sha256, size FROM code_packages"))).all()
    assert rows == [(sha, len(data))]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not a zip", "zip"),
        ("escape", ".."),
        ("absolute", "absolute"),
        ("mismatch", "sha256"),
    ],
)
async def test_bad_packages_are_422_with_the_reason(
    client: httpx.AsyncClient, case: str, reason: str
) -> None:
    buffer = io.BytesIO()
    if case == "not a zip":
        data = b"this is not a zip archive at all"
    else:
        with zipfile.ZipFile(buffer, "w") as archive:
            name = {"escape": "../../etc/evil.py", "absolute": "/etc/evil.py"}.get(case, "ok.py")
            archive.writestr(name, "x = 1\n")
        data = buffer.getvalue()
    sha = "0" * 64 if case == "mismatch" else hashlib.sha256(data).hexdigest()
    response = await client.put(f"/v1/code-packages/{sha}", content=data)
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"].lower()
    assert (await client.head(f"/v1/code-packages/{sha}")).status_code == 404


async def test_zip_bomb_is_refused(client: httpx.AsyncClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (20 * 1024 * 1024))
    data = buffer.getvalue()
    response = await client.put(
        f"/v1/code-packages/{hashlib.sha256(data).hexdigest()}", content=data
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_code_package"


async def test_too_large_is_413(settings: Settings, admin_token: str) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"code_package_max_bytes": 2048}))
    data = handler_returning("ok")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {admin_token}"},
        ) as http,
    ):
        big = io.BytesIO()
        with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("big.txt", b"y" * 4096)
        blob = big.getvalue()
        response = await http.put(
            f"/v1/code-packages/{hashlib.sha256(blob).hexdigest()}", content=blob
        )
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        small = await http.put(
            f"/v1/code-packages/{hashlib.sha256(data).hexdigest()}", content=data
        )
        assert small.status_code == 201, small.text


async def test_reader_cannot_upload(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    from tests.conftest import token_with

    reader = await token_with(client, "read", name="reader")
    data = handler_returning("r")
    response = await anonymous.put(
        f"/v1/code-packages/{hashlib.sha256(data).hexdigest()}",
        content=data,
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert response.status_code == 403

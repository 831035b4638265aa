"""The plaintext secret must appear nowhere: not in the database, logs or responses."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.accounts.service import AccountService, credentials
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.settings import Settings
from tests.accounts.test_accounts import account
from tests.conftest import TEST_SECRET_KEY

SECRET = "PlainSecret-0123456789-abcdefABCDEF"
ROTATED = "RotatedSecret-9876543210-zyxwvuZYXW"
STS = "PlainSts-Token-5555-6666-7777-8888"
PLAINTEXTS = (SECRET, ROTATED, STS)


async def _exercise(client: httpx.AsyncClient) -> list[httpx.Response]:
    return [
        await client.post(
            "/v1/accounts", json=account(access_key_secret=SECRET, security_token=STS)
        ),
        await client.get("/v1/accounts/prod"),
        await client.patch("/v1/accounts/prod", json={"access_key_secret": ROTATED}),
        # Invalid requests carrying secrets: the error must not echo them.
        await client.post("/v1/accounts", json=account("x", region="??", access_key_secret=SECRET)),
        await client.patch("/v1/accounts/prod", json={"access_key_secret": SECRET, "bogus": 1}),
        await client.post("/v1/accounts", json=account(access_key_secret=SECRET)),  # 409
    ]


async def test_secrets_are_encrypted_and_never_leak(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    responses = await _exercise(client)
    assert [r.status_code for r in responses] == [201, 200, 200, 422, 422, 409]
    for response in responses:
        for plaintext in PLAINTEXTS:
            assert plaintext not in response.text

    for plaintext in PLAINTEXTS:
        assert plaintext not in caplog.text

    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execute(text("PRAGMA wal_checkpoint(FULL)"))
        rows = (await conn.execute(text("SELECT * FROM accounts"))).all()
    stored = repr(rows).encode() + b"".join(
        bytes(v) for row in rows for v in row if isinstance(v, bytes | memoryview)
    )
    for plaintext in PLAINTEXTS:
        assert plaintext.encode() not in stored
    if engine.dialect.name == "sqlite":
        db_file = Path(engine.url.database or "")
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        assert raw, "database file not found"
        for plaintext in PLAINTEXTS:
            assert plaintext.encode() not in raw

    # ...and yet the gateway can still open them with the configured key.
    account = await AccountService(Database(engine), SecretBox(TEST_SECRET_KEY)).get("prod")
    creds = credentials(SecretBox(TEST_SECRET_KEY), account)
    assert creds.access_key_secret == ROTATED
    assert creds.security_token == STS
    assert ROTATED not in repr(creds)

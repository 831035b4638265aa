"""Fast webhook settings (short timeouts and backoff) and a receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.kit.settings import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.webhooks.receiver import Receiver

FAST = {
    "webhook_allowed_hosts": ["127.0.0.1"],
    "webhook_timeout_seconds": 0.5,
    "webhook_backoff_base_seconds": 0.05,
    "webhook_backoff_max_seconds": 0.2,
    "webhook_max_attempts": 50,
    "webhook_poll_seconds": 0.02,
    "public_url": "https://fcplane.example.com",
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, admin_token: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET_KEY,
        bootstrap_token=admin_token,
        **FAST,  # type: ignore[arg-type]
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


async def subscribe(client: httpx.AsyncClient, url: str, **fields: Any) -> dict[str, Any]:
    body = {"url": url, "events": ["deploy.succeeded", "drift.opened"], **fields}
    response = await client.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    return created

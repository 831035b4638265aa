from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from service.accounts.local import LocalEmulator
from service.app import create_app
from service.kit.settings import Settings
from tests.conftest import REDIS_URL, TEST_SECRET_KEY, drop_database, make_database, unavailable


async def _get(settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        return await http.get(path)


async def test_healthz_and_readyz(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
    ready = await anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok"},
        "details": {},
    }


async def test_readyz_says_how_the_embedded_emulator_runs_code(settings: Settings) -> None:
    unsafe = "unsafe-no-sandbox: started with --unsafe-no-sandbox"
    app = create_app(
        settings, LocalEmulator("http://127.0.0.1:1", "local-ak", "local-sk", sandbox=unsafe)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        ready = (await http.get("/readyz")).json()
    assert ready["status"] == "ok"
    assert ready["details"] == {"emulator_sandbox": unsafe}


async def test_readyz_is_503_before_migrations(tmp_path: Path) -> None:
    # make_database runs its own event loop (it also serves sync fixtures).
    url, name = await asyncio.to_thread(make_database, tmp_path)
    try:
        settings = Settings(database_url=url, data_dir=tmp_path, secret_key=TEST_SECRET_KEY)
        response = await _get(settings, "/readyz")
    finally:
        await asyncio.to_thread(drop_database, name)
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("at none, expected ")


async def test_readyz_is_503_when_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        data_dir=tmp_path,
        secret_key=TEST_SECRET_KEY,
    )
    response = await _get(settings, "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unavailable")


@pytest.mark.redis
async def test_readyz_checks_redis_when_configured(settings: Settings) -> None:
    try:
        async with Redis.from_url(REDIS_URL) as redis:
            await redis.ping()
    except OSError as exc:
        unavailable("Redis", str(exc))
    up = await _get(settings.model_copy(update={"redis_url": REDIS_URL}), "/readyz")
    assert up.status_code == 200
    assert up.json()["checks"]["redis"] == "ok"
    down = await _get(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}), "/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["redis"].startswith("unavailable")

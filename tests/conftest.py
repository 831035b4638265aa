"""Shared fixtures: a migrated database (SQLite or PostgreSQL), the app, clients, tokens.

The backend comes from FCPLANE_TEST_DATABASE (sqlite, the default, or postgresql).
With CI=true an unreachable PostgreSQL or Redis fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.kit.db import Database, create_engine
from service.kit.migrations import upgrade
from service.kit.settings import Settings
from service.models import Base

BACKEND = os.environ.get("FCPLANE_TEST_DATABASE", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get(
    "FCPLANE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("FCPLANE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_SECRET_KEY = "test-secret-key-" + "k" * 32


def unavailable(what: str, why: str) -> None:
    """Skip locally; in CI a missing service is a failure, never a silent skip."""
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(message + "; CI=true requires it", pytrace=False)
    pytest.skip(message)


async def _admin_execute(statement: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_ADMIN_URL)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        database=url.database,
        password=url.password,
        timeout=5,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def make_database(tmp_dir: Path) -> tuple[str, str | None]:
    """A new empty database; returns its URL and, for PostgreSQL, its name (to drop)."""
    if BACKEND == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_dir / f'{uuid.uuid4().hex}.db'}", None
    if BACKEND != "postgresql":
        raise pytest.UsageError(f"FCPLANE_TEST_DATABASE={BACKEND!r}: use sqlite or postgresql")
    name = f"fcplane_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError) as exc:
        unavailable("PostgreSQL", f"{type(exc).__name__}: {exc}")
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False), name


def drop_database(name: str | None) -> None:
    if name is not None:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def migrated_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per test session, built by the migrations (never create_all)."""
    url, name = make_database(tmp_path_factory.mktemp("db"))
    upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture
async def database_url(migrated_database_url: str) -> AsyncIterator[str]:
    yield migrated_database_url
    # Each test starts from empty tables; the schema stays.
    engine = create_engine(migrated_database_url)
    try:
        async with engine.begin() as conn:
            tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
            if engine.dialect.name == "postgresql":
                await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    await conn.execute(text(f"DELETE FROM {table}"))
    finally:
        await engine.dispose()


@pytest.fixture
def admin_token() -> str:
    return "fcp_" + secrets.token_urlsafe(32)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, admin_token: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET_KEY,
        bootstrap_token=admin_token,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client talking to the app over its ASGI interface."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://fcplane.test",
        headers={"Authorization": f"Bearer {admin_token}"},
    ) as http:
        yield http


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fcplane.test"
    ) as http:
        yield http


async def token_with(client: httpx.AsyncClient, *scopes: str, name: str = "t") -> str:
    response = await client.post("/v1/tokens", json={"name": name, "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    db = create_engine(database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The test database as services get it."""
    database = Database.connect(database_url)
    yield database
    await database.dispose()


# Fixtures that give a test a database of the configured backend.
DATABASE_FIXTURES = {"migrated_database_url", "fresh_url", "live_base_url"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, run only the tests that touch a database.

    The others (emulator, normalization, report rendering, ...) do not depend on
    the backend and already ran in the SQLite leg; running them twice would only
    double CI time.
    """
    if BACKEND != "postgresql":
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = getattr(item, "module", None)
        builds_its_own = module is not None and "make_database" in vars(module)
        (keep if fixtures & DATABASE_FIXTURES or builds_its_own else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep

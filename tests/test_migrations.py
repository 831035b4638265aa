"""Migrations are the only way the schema is made; they must round-trip with data present."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from service.kit.db import create_engine
from service.kit.migrations import check, downgrade, heads, migrations_dir, upgrade
from service.models import Base
from tests.conftest import drop_database, make_database


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    url, name = make_database(tmp_path)
    yield url
    drop_database(name)


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _execute(url: str, *statements: str) -> list[object]:
    async def run() -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                return [
                    (await conn.execute(text(s))).all() if s.startswith("SELECT") else None
                    for s in statements
                ]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_single_head_and_date_slug_file_names() -> None:
    assert len(heads()) == 1
    script = ScriptDirectory(str(migrations_dir()))
    for revision in script.walk_revisions():
        assert revision.path is not None
        name = Path(revision.path).name
        assert re.match(r"^\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]+_[a-z0-9_]+\.py$", name), name


def test_models_match_migrations(fresh_url: str) -> None:
    upgrade(fresh_url)
    check(fresh_url)  # raises when autogenerate would find a difference
    assert {t.name for t in Base.metadata.sorted_tables} <= _tables(fresh_url)


def test_round_trip_to_base_and_back_with_data_present(fresh_url: str) -> None:
    upgrade(fresh_url)
    _execute(
        fresh_url,
        "INSERT INTO accounts (alias, account_id, region, endpoint, access_key_id, "
        "access_key_secret_sealed, is_default, created_at, updated_at) VALUES "
        "('a', '123456', 'cn-hangzhou', 'https://x', 'AK', X'00', false, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO functions (name, account_id, created_at) "
        "SELECT 'f', id, CURRENT_TIMESTAMP FROM accounts",
        "INSERT INTO api_tokens (name, token_hash, prefix, scopes, created_at) "
        "VALUES ('t', 'h', 'fcp_', '[\"read\"]', CURRENT_TIMESTAMP)",
    )
    script = ScriptDirectory(str(migrations_dir()))
    # Step down one revision at a time so every downgrade() runs on real rows.
    for revision in script.walk_revisions():
        downgrade(fresh_url, revision.down_revision or "base")  # type: ignore[arg-type]
    assert _tables(fresh_url) <= {"alembic_version"}
    upgrade(fresh_url)
    check(fresh_url)
    assert _execute(fresh_url, "SELECT count(*) FROM accounts") == [[(0,)]]

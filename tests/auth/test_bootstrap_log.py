"""What start-up says about FCPLANE_BOOTSTRAP_TOKEN once the database already has tokens."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pytest

from service.app import create_app
from service.kit.settings import Settings
from tests.conftest import TEST_SECRET_KEY


async def _start(database_url: str, tmp_path: Path, token: str) -> None:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET_KEY,
        bootstrap_token=token,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass


async def test_a_different_bootstrap_token_is_reported_as_ignored(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = "fcp_" + secrets.token_urlsafe(32)
    caplog.set_level(logging.INFO, logger="service.app")
    await _start(database_url, tmp_path, first)
    await _start(database_url, tmp_path, first)
    assert "bootstrap token from FCPLANE_BOOTSTRAP_TOKEN is in place" in caplog.text
    caplog.clear()
    other = "fcp_" + secrets.token_urlsafe(32)
    await _start(database_url, tmp_path, other)
    assert "FCPLANE_BOOTSTRAP_TOKEN was ignored" in caplog.text
    assert "is in place" not in caplog.text
    assert other not in caplog.text

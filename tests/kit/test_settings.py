from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.kit.settings import Environment, Settings


def test_env_prefix_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCPLANE_PORT", "9123")
    monkeypatch.setenv("FCPLANE_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1, hooks.internal,10.0.0.0/8")
    settings = Settings()
    assert settings.port == 9123
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.webhook_allowed_hosts == ["127.0.0.1", "hooks.internal", "10.0.0.0/8"]
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.resolved_database_url.endswith("/fcplane-data/fcplane.db")


def test_production_refuses_to_start_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCPLANE_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="FCPLANE_SECRET_KEY is required"):
        Settings()
    monkeypatch.setenv("FCPLANE_SECRET_KEY", "r" * 40)
    assert Settings().environment is Environment.PRODUCTION


@pytest.mark.parametrize("weak", ["short", "change-me", "x" * 31])
def test_weak_keys_are_refused(monkeypatch: pytest.MonkeyPatch, weak: str) -> None:
    monkeypatch.setenv("FCPLANE_SECRET_KEY", weak)
    with pytest.raises(ValidationError) as err:
        Settings()
    assert "at least 32 characters" in str(err.value)

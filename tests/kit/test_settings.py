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
    monkeypatch.setenv("FCPLANE_SECRET_KEY", STRONG)
    assert Settings().environment is Environment.PRODUCTION


STRONG = "Vq3-tR9_kLm2Zx8wPp4sNd7yHc1bGf6jE0uA"


@pytest.mark.parametrize("weak", ["short", "change-me", "x" * 31, "r" * 40, "ab" * 20])
def test_weak_keys_are_refused(monkeypatch: pytest.MonkeyPatch, weak: str) -> None:
    monkeypatch.setenv("FCPLANE_SECRET_KEY", weak)
    with pytest.raises(ValidationError) as err:
        Settings()
    assert "at least 32 characters" in str(err.value)


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("a" * 40, "repeated"),
        ("fcp_changeme_" + "Qw3rTy9uIo0pAs1dFg2h", "placeholder"),
    ],
)
def test_bootstrap_token_follows_the_secret_key_rule(
    monkeypatch: pytest.MonkeyPatch, token: str, why: str
) -> None:
    monkeypatch.setenv("FCPLANE_SECRET_KEY", STRONG)
    monkeypatch.setenv("FCPLANE_BOOTSTRAP_TOKEN", token)
    development = Settings()  # allowed while developing, with a warning at start-up
    assert development.bootstrap_token_weakness is not None
    assert why in development.bootstrap_token_weakness
    monkeypatch.setenv("FCPLANE_ENVIRONMENT", "production")
    with pytest.raises(ValidationError) as err:
        Settings()
    assert "FCPLANE_BOOTSTRAP_TOKEN is" in str(err.value)
    assert token not in str(err.value)  # never echoes the secret


def test_a_strong_bootstrap_token_starts_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCPLANE_ENVIRONMENT", "production")
    monkeypatch.setenv("FCPLANE_SECRET_KEY", STRONG)
    monkeypatch.setenv("FCPLANE_BOOTSTRAP_TOKEN", "fcp_" + STRONG)
    assert Settings().bootstrap_token_weakness is None

"""No Docker engine runs here, so the packaging is checked by reading it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from service.cli import app
from service.kit.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_services_images_and_builds() -> None:
    services = _compose()["services"]
    assert {"api", "worker", "postgres", "redis", "migrate", "emulator"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("api", "worker", "migrate", "emulator"):
        build = services[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).is_file()


def test_commands_are_real_fcplane_commands() -> None:
    services = _compose()["services"]
    runner = CliRunner()
    for name in ("api", "worker", "migrate", "emulator"):
        command = services[name]["command"]
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: `fcplane {' '.join(command)}` is not a command"


def test_env_wiring_uses_real_settings() -> None:
    services = _compose()["services"]
    settings_fields = {f"FCPLANE_{name.upper()}" for name in Settings.model_fields}
    api_env = services["api"]["environment"]
    worker_env = services["worker"]["environment"]
    for env in (api_env, worker_env, services["migrate"]["environment"]):
        assert env["FCPLANE_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in env["FCPLANE_DATABASE_URL"]
        assert env["FCPLANE_ENVIRONMENT"] == "production"
        assert env["FCPLANE_SECRET_KEY"].startswith("${FCPLANE_SECRET_KEY")
    for env in (api_env, worker_env):
        assert env["FCPLANE_REDIS_URL"] == "redis://redis:6379/0"
        assert set(env) <= settings_fields, set(env) - settings_fields
    pg = services["postgres"]["environment"]
    url = api_env["FCPLANE_DATABASE_URL"]
    assert f"{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@" in url
    assert url.endswith("/" + pg["POSTGRES_DB"])


def test_health_checks_and_start_order() -> None:
    services = _compose()["services"]
    for name in ("api", "worker", "postgres", "redis", "emulator"):
        assert services[name]["healthcheck"]["test"], name
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    api_deps = services["api"]["depends_on"]
    assert api_deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "--skip-migrations" in services["api"]["command"]


def test_dockerfile_runs_fcplane_as_non_root() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.M)
    assert 'ENTRYPOINT ["fcplane"]' in dockerfile
    assert "COPY migrations" in dockerfile

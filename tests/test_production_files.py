"""The production files work as written (issue 17): docker-compose.yml against the
compose-spec schema, its secrets, health checks and process handling; the image's
pinned base, lock file and user; and `fcplane worker --check` on a real worker.

No Docker engine runs here, so the compose file and Dockerfile are checked by
reading them; Compose's variable interpolation is reproduced for the checks that
need the values a container would see.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from typer.testing import CliRunner

from service.cli import app
from service.kit.settings import Environment, Settings
from service.worker import HEALTH_CHECK_SECONDS, health_check_key
from tests.conftest import REDIS_URL, TEST_SECRET_KEY, unavailable

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
LOCK = ROOT / "deploy" / "requirements.lock"
ENV_EXAMPLE = ROOT / ".env.example"
FCPLANE_SERVICES = ("migrate", "api", "worker", "emulator")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEYS")


class MissingVariable(Exception):
    pass


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation of the values that use it (the forms this file uses)."""
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.groups()
        current = env.get(name)
        missing = current is None or (op is not None and op.startswith(":") and current == "")
        if op is not None and op.endswith("?") and missing:
            raise MissingVariable(f"{name}: {arg}")
        if op is not None and op.endswith("-") and missing:
            return arg
        return current or ""

    return _VARIABLE.sub(one, value)


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _services() -> dict[str, Any]:
    services: dict[str, Any] = _compose()["services"]
    return services


def _filled_env_file() -> dict[str, str]:
    """.env.example with every empty value filled in the way it says."""
    env: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        env[name] = value
    env.update(
        POSTGRES_PASSWORD=secrets.token_urlsafe(32),
        FCPLANE_SECRET_KEY=secrets.token_urlsafe(32),
        FCPLANE_PUBLIC_URL="https://fcplane.example.com",
        FCPLANE_EMULATOR_ACCESS_KEYS=f"ak-{secrets.token_hex(8)}:{secrets.token_urlsafe(24)}",
        FCPLANE_BOOTSTRAP_TOKEN="fcp_" + secrets.token_urlsafe(32),
    )
    return env


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


# -- docker-compose.yml --------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_spec(tmp_path: Path) -> None:
    # The file as written, and as Compose sees it once .env is filled in.
    resolved = tmp_path / "docker-compose.resolved.yml"
    resolved.write_text(yaml.safe_dump(_interpolate(_compose(), _filled_env_file())))
    # check-jsonschema's vendored copy of the compose-spec schema: no network.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
            str(resolved),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, service in _services().items():
        for key, value in (service.get("environment") or {}).items():
            if _SECRET_NAME.search(key):
                # Only a reference to the environment, required or empty by default.
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]+|:-)\}", str(value)), (name, key)
    pg_password = _services()["postgres"]["environment"]["POSTGRES_PASSWORD"]
    for name in ("migrate", "api", "worker"):
        url = _services()[name]["environment"]["FCPLANE_DATABASE_URL"]
        assert f"://fcplane:{pg_password}@postgres:5432/fcplane" in url, name


def test_secrets_come_from_a_git_ignored_env_file() -> None:
    referenced = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    documented = set(_filled_env_file())
    assert referenced <= documented, referenced - documented
    # The example holds no secret: every secret line is empty.
    for line in ENV_EXAMPLE.read_text().splitlines():
        if _SECRET_NAME.search(line.partition("=")[0]) and not line.startswith("#"):
            assert line.endswith("="), line
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    # With the example as it is (values empty), nothing starts.
    with pytest.raises(MissingVariable, match=r"POSTGRES_PASSWORD|FCPLANE_SECRET_KEY"):
        _interpolate(_compose(), {})


def test_fcplane_containers_get_settings_production_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env_file = _filled_env_file()
    services = _interpolate(_compose(), env_file)["services"]
    pg = services["postgres"]["environment"]
    for name in ("migrate", "api", "worker"):
        env = services[name]["environment"]
        for key in [k for k in os.environ if k.startswith("FCPLANE_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.environment is Environment.PRODUCTION
        # Links in notifications point where clients reach the API, not at 0.0.0.0.
        assert settings.resolved_public_url == "https://fcplane.example.com", name
        assert settings.resolved_database_url == (
            f"postgresql+asyncpg://{pg['POSTGRES_USER']}:{env_file['POSTGRES_PASSWORD']}"
            f"@postgres:5432/{pg['POSTGRES_DB']}"
        )
    # The emulator gets its keys and nothing of fcplane's secrets.
    emulator_env = services["emulator"]["environment"]
    assert set(emulator_env) == {"FCPLANE_EMULATOR_ACCESS_KEYS"}
    assert emulator_env["FCPLANE_EMULATOR_ACCESS_KEYS"] == env_file["FCPLANE_EMULATOR_ACCESS_KEYS"]


def test_fcplane_containers_run_an_init_and_stop_gracefully() -> None:
    services = _services()
    for name in FCPLANE_SERVICES:
        assert services[name]["init"] is True, name
        # Docker's default (10 s) cuts a worker's cancel-and-release short.
        assert _seconds(services[name]["stop_grace_period"]) >= 20, name


def test_health_checks_test_the_service_itself() -> None:
    services = _services()
    api_test = services["api"]["healthcheck"]["test"]
    assert api_test[0] == "CMD"
    assert "http://127.0.0.1:8000/readyz" in " ".join(api_test)
    worker_check = services["worker"]["healthcheck"]
    assert worker_check["test"] == ["CMD", "fcplane", "worker", "--check"]
    # Checks no more often than arq refreshes the key's lifetime would need.
    assert _seconds(worker_check["interval"]) >= HEALTH_CHECK_SECONDS
    help_text = CliRunner().invoke(app, ["worker", "--help"]).output
    assert "--check" in help_text


def test_emulator_data_dir_exists_in_the_image_owned_by_its_user() -> None:
    emulator = _services()["emulator"]
    command = emulator["command"]
    data_dir = command[command.index("--data-dir") + 1]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in emulator["volumes"]}
    assert mounts[data_dir] in _compose()["volumes"]  # a named volume, seeded from the image
    dockerfile = DOCKERFILE.read_text()
    assert re.search(rf"mkdir -p {re.escape(data_dir)}\b", dockerfile)
    uid = _image_user()
    chowned = re.search(r"chown (-R )?(\d+):(\d+) (\S+)", dockerfile)
    assert chowned is not None
    recursive, owner, _group, path = chowned.groups()
    assert owner == uid
    assert data_dir == path or (recursive and data_dir.startswith(path.rstrip("/") + "/"))


# -- deploy/Dockerfile and the lock file ------------------------------------------


def _image_user() -> str:
    users = re.findall(r"^USER (\S+)", DOCKERFILE.read_text(), re.M)
    assert users, "the image must name its user"
    return str(users[-1].split(":")[0])


def test_image_runs_as_a_numeric_non_root_user() -> None:
    # Numeric: Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
    uid = _image_user()
    assert uid.isdigit(), uid
    assert int(uid) >= 1000, uid
    assert 'ENTRYPOINT ["fcplane"]' in DOCKERFILE.read_text()


def test_base_image_is_pinned_by_digest() -> None:
    text = DOCKERFILE.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    stages: set[str] = set()
    froms = re.findall(r"^FROM (\S+)(?: AS (\S+))?", text, re.M)
    assert froms
    for image, stage in froms:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        if resolved not in stages:
            assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", resolved)
        if stage:
            stages.add(stage)


def test_dependencies_come_from_the_lock_with_hashes() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"pip install [^\n]*--require-hashes -r \S*requirements\.lock", text)
    assert "COPY deploy/requirements.lock" in text
    # fcplane itself adds no unlocked dependency.
    assert re.search(r"pip install [^\n]*--no-deps \.$", text, re.M)


def test_build_context_carries_what_the_image_copies_and_no_secrets() -> None:
    ignore = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore  # an allowlist: .env, .git and .venv stay out
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(), re.M):
        for path in source.split():
            assert f"!{path.rstrip('/').removeprefix('./')}" in ignore, path


def _locked() -> dict[str, str]:
    """name -> version of each requirement in the lock; every one pinned and hashed."""
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 2)[2]):
        if not entry.strip() or entry.startswith("#"):
            continue
        head = entry.split(" \\")[0]
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)( ; .+)?", head)
        assert match, f"not an exact pin: {head}"
        assert "--hash=sha256:" in entry, f"no hash: {head}"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_lock_pins_every_runtime_dependency_of_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = _locked()
    for line in pyproject["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in the lock: refresh it"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    # Runtime only (pytest may be there: Locust depends on it).
    assert not {"mypy", "ruff", "check-jsonschema", "openapi-python-client"} & set(pins)


def test_lock_refresh_command_is_the_documented_one() -> None:
    recorded = LOCK.read_text().splitlines()[1].strip("# ").strip()
    assert recorded.startswith("uv pip compile pyproject.toml")
    assert "--generate-hashes" in recorded
    assert "-o deploy/requirements.lock" in recorded
    assert recorded in DOCKERFILE.read_text()


# -- fcplane worker --check on a real worker ------------------------------------------


@pytest.fixture
def worker_env(migrated_database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        unavailable("Redis", str(exc))
    queue = f"fcplane-test:{uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPLANE_")}
    env.update(
        FCPLANE_REDIS_URL=REDIS_URL,
        FCPLANE_REDIS_QUEUE_NAME=queue,
        FCPLANE_DATABASE_URL=migrated_database_url,
        FCPLANE_DATA_DIR=str(tmp_path),
        FCPLANE_SECRET_KEY=TEST_SECRET_KEY,
        FCPLANE_DRIFT_SCAN_INTERVAL_SECONDS="0",
        FCPLANE_LOG_LEVEL="warning",
    )
    yield env
    keys = list(client.scan_iter(f"{queue}*")) + list(client.scan_iter(f"arq:*{queue}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _check(env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["worker", "--check"], env=env)
    return result.exit_code, result.output


def test_worker_check_follows_a_real_worker(worker_env: dict[str, str], tmp_path: Path) -> None:
    code, output = _check(worker_env)
    assert code == 1
    assert output.count("\n") == 1, output
    assert "no health record" in output
    log = tmp_path / "worker.log"
    with log.open("wb") as stderr:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from service.cli import main; sys.argv[0] = 'fcplane'; main()",
                "worker",
            ],
            env=worker_env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 20
        while (code := _check(worker_env)[0]) != 0 and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.2)
        assert code == 0
        assert "fcplane: worker healthy: " in _check(worker_env)[1]
        # A worker that dies without closing stops being healthy within a check interval.
        key = health_check_key(worker_env["FCPLANE_REDIS_QUEUE_NAME"])
        with redis.Redis.from_url(REDIS_URL) as client:
            assert 0 < client.pttl(key) <= (HEALTH_CHECK_SECONDS + 1) * 1000
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    # A worker that stopped removes its record: the check fails at once.
    code, output = _check(worker_env)
    assert code == 1, output
    assert "no health record" in output


def test_worker_check_reports_an_unreachable_redis(worker_env: dict[str, str]) -> None:
    env = {**worker_env, "FCPLANE_REDIS_URL": "redis://127.0.0.1:1/0"}
    code, output = _check(env)
    assert code == 1
    assert output.startswith("fcplane: worker unhealthy: Redis is not reachable")

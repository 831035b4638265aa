"""The server half of `fcplane`: serve the API, run workers and migrations, mint tokens,
export OpenAPI. service/cli.py loads this module only when one of these commands runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from service.emulator.cli import emulator_app
from service.kit.settings import Environment, LogLevel, Settings

app = typer.Typer(add_completion=False)
db_app = typer.Typer(no_args_is_help=True, help="Database schema migrations (Alembic).")
token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(emulator_app, name="emulator")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        envvar="FCPLANE_DATABASE_URL",
        show_envvar=True,
        help="SQLAlchemy async URL, e.g. postgresql+asyncpg://user@host/db. "
        "Default: SQLite file fcplane.db in the data directory.",
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        envvar="FCPLANE_DATA_DIR",
        show_envvar=True,
        help="Directory for the SQLite database, the development key and reports "
        "(default: ./fcplane-data).",
    ),
]
SecretKey = Annotated[
    str | None,
    typer.Option(
        envvar="FCPLANE_SECRET_KEY",
        show_envvar=True,
        show_default=False,
        help="Key (>= 32 random characters) that encrypts account secrets at rest. Required in "
        "production; prefer the environment variable, command lines are visible to other users.",
    ),
]
EnvironmentOpt = Annotated[
    Environment | None,
    typer.Option(
        "--environment",
        envvar="FCPLANE_ENVIRONMENT",
        show_envvar=True,
        help="development allows generated keys; production requires FCPLANE_SECRET_KEY "
        "(default: development).",
    ),
]
LogLevelOpt = Annotated[
    LogLevel | None,
    typer.Option(envvar="FCPLANE_LOG_LEVEL", show_envvar=True, help="Log level. Default: info."),
]


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicitly given CLI options on top."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        # Only field names and reasons: the input may be a secret.
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            typer.echo(f"fcplane: invalid setting {where}: {err['msg']}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(
            envvar="FCPLANE_HOST", show_envvar=True, help="Address to bind. Default: 127.0.0.1."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(envvar="FCPLANE_PORT", show_envvar=True, help="Port to bind. Default: 8000."),
    ] = None,
    database_url: DatabaseUrl = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            envvar="FCPLANE_REDIS_URL",
            show_envvar=True,
            help="Redis URL for the job queue; unset: jobs run inside this process.",
        ),
    ] = None,
    data_dir: DataDir = None,
    secret_key: SecretKey = None,
    environment: EnvironmentOpt = None,
    log_level: LogLevelOpt = None,
    skip_migrations: Annotated[
        bool,
        typer.Option(
            "--skip-migrations",
            help="Do not run `db upgrade` first (when a separate step migrates).",
        ),
    ] = False,
    emulator: Annotated[
        bool,
        typer.Option(
            "--emulator/--no-emulator",
            envvar="FCPLANE_EMULATOR",
            show_envvar=True,
            help="Run the bundled FC emulator beside the API and register it as account "
            "`local` (the default account when there is no other).",
        ),
    ] = True,
    emulator_port: Annotated[
        int,
        typer.Option(
            envvar="FCPLANE_EMULATOR_PORT",
            show_envvar=True,
            help="Port of the embedded emulator, on 127.0.0.1.",
        ),
    ] = 9000,
    unsafe_no_sandbox: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-sandbox",
            envvar="FCPLANE_EMULATOR_UNSAFE_NO_SANDBOX",
            show_envvar=True,
            help="Let the embedded emulator run function code WITHOUT its bubblewrap sandbox "
            "(functions could then read fcplane's secrets). Only for code you trust.",
        ),
    ] = False,
) -> None:
    """Run the API server (migrating the database first)."""
    import uvicorn

    from service.accounts.local import LocalEmulator, access_key_path, local_access_key
    from service.app import create_app
    from service.kit.logging import configure_logging
    from service.kit.migrations import upgrade

    settings = _settings(
        host=host,
        port=port,
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        secret_key=secret_key,
        environment=environment,
        log_level=log_level,
    )
    configure_logging(settings.log_level, settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not skip_migrations:
        upgrade(settings.resolved_database_url)

    def run(local: LocalEmulator | None) -> None:
        uvicorn.run(
            create_app(settings, local),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.value,
            log_config=None,
            # Streams (log follow, job events) would otherwise hold a graceful
            # shutdown open until their clients leave.
            timeout_graceful_shutdown=10,
        )

    if not emulator:
        run(None)
        return
    from service.emulator.server import start_in_thread
    from service.emulator.settings import EmulatorSettings

    emulator_dir = settings.emulator_data_dir
    key_id, key_secret = local_access_key(emulator_dir)
    emulator_settings = EmulatorSettings(
        data_dir=emulator_dir,
        access_keys={key_id: key_secret},
        unsafe_no_sandbox=unsafe_no_sandbox,
    )
    with start_in_thread(
        "127.0.0.1", emulator_port, emulator_dir, None, settings=emulator_settings
    ) as fc:
        sandbox = fc.app.emu.runtime.sandbox_status()
        summary = str(sandbox["mode"]) if sandbox["enabled"] else f"{sandbox['mode']}: "
        summary += "" if sandbox["enabled"] else str(sandbox["detail"])
        # Every start, since the key file outlives the first one; the secret stays in the
        # file: this output ends up in logs.
        credentials = "fcplane emulator credentials"
        if settings.data_dir != Path("fcplane-data"):
            credentials += f" --data-dir {settings.data_dir}"
        if fc.port != 9000:
            credentials += f" --emulator-port {fc.port}"
        typer.echo(
            f"fcplane: FC emulator listening on {fc.url} (account `local`, sandbox {summary})\n"
            f"    official SDK: endpoint {fc.endpoint}, protocol http, access key id {key_id},\n"
            f"    secret in {access_key_path(emulator_dir).resolve()}\n"
            f"    (`{credentials}` prints the SDK Config)",
            err=True,
        )
        run(LocalEmulator(fc.url, key_id, key_secret, sandbox=summary))


@app.command()
def worker(
    redis_url: Annotated[
        str | None,
        typer.Option(
            envvar="FCPLANE_REDIS_URL",
            show_envvar=True,
            help="Redis URL of the job queue (required).",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    secret_key: SecretKey = None,
    environment: EnvironmentOpt = None,
    log_level: LogLevelOpt = None,
    burst: Annotated[
        bool, typer.Option("--burst", help="Exit once the queue is empty (for tests and cron).")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Run no worker: exit 0 if this host's worker recorded its health in Redis "
            "within the last few seconds, else 1 (a container health check).",
        ),
    ] = False,
) -> None:
    """Run a job worker (arq on Redis)."""
    from service.kit.logging import configure_logging
    from service.worker import check_health, create_worker

    settings = _settings(
        redis_url=redis_url,
        database_url=database_url,
        data_dir=data_dir,
        secret_key=secret_key,
        environment=environment,
        log_level=log_level,
    )
    configure_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        typer.echo(
            "fcplane: the worker needs FCPLANE_REDIS_URL (without Redis, `fcplane serve` "
            "runs jobs itself)",
            err=True,
        )
        raise typer.Exit(2)
    if check:
        healthy, detail = asyncio.run(check_health(settings))
        typer.echo(
            f"fcplane: worker {'healthy' if healthy else 'unhealthy'}: {detail}", err=not healthy
        )
        raise typer.Exit(0 if healthy else 1)
    create_worker(settings, burst=burst).run()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from service.kit.migrations import upgrade

    settings = _settings(database_url=database_url, data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url, revision)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")],
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Revert migrations down to REVISION."""
    from service.kit.migrations import downgrade

    downgrade(
        _settings(database_url=database_url, data_dir=data_dir).resolved_database_url, revision
    )


@db_app.command("check")
def db_check(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Fail when the models differ from the migrations (alembic check)."""
    from service.kit.migrations import check

    check(_settings(database_url=database_url, data_dir=data_dir).resolved_database_url)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses the token (e.g. ci).")],
    scope: Annotated[
        list[str],
        typer.Option(
            help="read, deploy or admin; repeat for several. A scope implies those below it."
        ),
    ],
    expires_in: Annotated[
        int | None, typer.Option(help="Lifetime in seconds. Default: never expires.")
    ] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Create an API token and print it (it is shown only this once)."""
    from service.auth.schemas import TokenCreate
    from service.auth.service import TokenService
    from service.kit.db import Database

    try:
        request = TokenCreate(name=name, scopes=scope, expires_in=expires_in)
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"fcplane: invalid --{err['loc'][0]}: {err['msg']}", err=True)
        raise typer.Exit(2) from None
    settings = _settings(database_url=database_url, data_dir=data_dir)

    async def create() -> str:
        db = Database.connect(settings.resolved_database_url, pool_size=1)
        try:
            _, raw = await TokenService(db).create(request, "cli")
            return raw
        finally:
            await db.dispose()

    typer.echo(asyncio.run(create()))


@app.command()
def openapi() -> None:
    """Print the HTTP API's OpenAPI schema (what openapi/openapi.json holds)."""
    from service.app import create_app

    typer.echo(json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=False))

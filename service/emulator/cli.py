"""`fcplane emulator` — run the local FC 3.0 emulator in the foreground; `fcplane emulator
credentials` — how to reach the one `fcplane serve` embeds with the official SDK."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.emulator.settings import (
    ACCESS_KEYS_ENV,
    DEV_ACCESS_KEY_ID,
    DEV_ACCESS_KEY_SECRET,
    UNSAFE_NO_SANDBOX_ENV,
    EmulatorSettings,
    access_keys_from_env,
    parse_access_keys,
)

DATA_DIR_ENV = "FCPLANE_EMULATOR_DATA_DIR"
_KEY_HELP = (
    "AK:SECRET accepted for ACS3-HMAC-SHA256 signatures; repeatable. Default: env "
    f"{ACCESS_KEYS_ENV} (comma-separated AK:SECRET), else the dev pair "
    f"{DEV_ACCESS_KEY_ID}:{DEV_ACCESS_KEY_SECRET}."
)

emulator_app = typer.Typer(add_completion=False)


class Output(StrEnum):
    python = "python"
    json = "json"


@emulator_app.callback(invoke_without_command=True)
def emulator_command(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on. Keep loopback unless you mean to share it.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="TCP port for the FC API, HTTP triggers and /_emulator/.")
    ] = 9000,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where functions, versions, configs and code are kept "
            f"[default: env {DATA_DIR_ENV}, else .fcplane/emulator]."
        ),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Accept unsigned requests (local play only).")
    ] = False,
    access_key: Annotated[list[str] | None, typer.Option("--access-key", help=_KEY_HELP)] = None,
    region: Annotated[str, typer.Option(help="Region reported in ARNs and to functions.")] = (
        "cn-hangzhou"
    ),
    account_id: Annotated[str, typer.Option(help="Account id reported in ARNs.")] = "1234567890",
    instance_limit: Annotated[
        int, typer.Option(help="Account-wide instance limit (FC's per-region concurrency quota).")
    ] = 100,
    idle_timeout: Annotated[
        float, typer.Option(help="Seconds an idle on-demand instance is kept before it stops.")
    ] = 300.0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    unsafe_no_sandbox: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-sandbox",
            envvar=UNSAFE_NO_SANDBOX_ENV,
            show_envvar=True,
            help="Run function code WITHOUT the bubblewrap sandbox, as plain processes that "
            "can read this machine's files and environment. Only for code you trust, where "
            "bubblewrap cannot run.",
        ),
    ] = False,
) -> None:
    """Run the local FC emulator: FC 3.0's REST API for the official SDK, running real code."""
    if ctx.invoked_subcommand is not None:
        return
    from service.emulator.server import serve_forever

    try:
        keys = parse_access_keys(access_key) if access_key else access_keys_from_env()
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--access-key") from None
    settings = EmulatorSettings(
        data_dir=data_dir or Path(os.environ.get(DATA_DIR_ENV, ".fcplane/emulator")),
        access_keys=None if no_auth else keys,
        region=region,
        account_id=account_id,
        account_instance_limit=instance_limit,
        idle_timeout_s=idle_timeout,
        unsafe_no_sandbox=unsafe_no_sandbox,
    )
    serve_forever(host, port, settings, log_level=log_level)


@emulator_app.command("credentials")
def credentials_command(
    data_dir: Annotated[
        Path,
        typer.Option(
            envvar="FCPLANE_DATA_DIR",
            show_envvar=True,
            help="fcplane's data directory (as given to `fcplane serve`); the key pair is in "
            "its emulator/access-key.json.",
        ),
    ] = Path("fcplane-data"),
    emulator_port: Annotated[
        int,
        typer.Option(
            envvar="FCPLANE_EMULATOR_PORT",
            show_envvar=True,
            help="Port `fcplane serve` runs the embedded emulator on.",
        ),
    ] = 9000,
    output: Annotated[
        Output,
        typer.Option(
            "--output",
            "-o",
            help="python: a Client(Config(...)) to paste; json: Config's keyword arguments.",
        ),
    ] = Output.python,
) -> None:
    """Print the official SDK's Config for the emulator `fcplane serve` runs (with its secret)."""
    from service.accounts.local import LOCAL_REGION, access_key_path, local_access_key

    emulator_dir = data_dir / "emulator"
    if not access_key_path(emulator_dir).exists():
        typer.echo(
            f"fcplane: no emulator key at {access_key_path(emulator_dir)}: start `fcplane serve` "
            "with this data directory first (the standalone `fcplane emulator` takes "
            "--access-key, default the dev pair)",
            err=True,
        )
        raise typer.Exit(1)
    key_id, key_secret = local_access_key(emulator_dir)
    config = {
        "access_key_id": key_id,
        "access_key_secret": key_secret,
        "region_id": LOCAL_REGION,
        "endpoint": f"127.0.0.1:{emulator_port}",
        "protocol": "http",
    }
    if output is Output.json:
        typer.echo(json.dumps(config, indent=2))
        return
    arguments = "".join(f"        {key}={json.dumps(value)},\n" for key, value in config.items())
    typer.echo(
        "from alibabacloud_fc20230330.client import Client\n"
        "from alibabacloud_tea_openapi.models import Config\n\n"
        f"fc = Client(\n    Config(\n{arguments}    )\n)"
    )

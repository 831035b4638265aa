"""The `fcplane` command: the server's commands and the API client's, loaded on demand.

Start-up time is the product here: `fcplane --help` and every subcommand must
start fast, and `fcplane serve` must never load the client (httpx client code,
Rich output) nor `fcplane deploy` the server (settings, the emulator, the
database). So this module imports only Typer; each command is a placeholder
that carries its name and one-line help, and the module that defines the
command is imported when the command is actually parsed (its own `--help`
included). A test keeps these one-line helps equal to the commands' own.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

SERVER, CLIENT = "Server", "Client (talks to the API)"
SERVER_MODULE, CLIENT_MODULE = "service.server_cli", "service.client.cli"

# name -> (module whose `app` defines it, its one-line help, help panel)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": (SERVER_MODULE, "Run the API server (migrating the database first).", SERVER),
    "worker": (SERVER_MODULE, "Run a job worker (arq on Redis).", SERVER),
    "emulator": (
        SERVER_MODULE,
        "Run the local FC emulator: FC 3.0's REST API for the official SDK, running real code.",
        SERVER,
    ),
    "db": (SERVER_MODULE, "Database schema migrations (Alembic).", SERVER),
    "token": (SERVER_MODULE, "API tokens.", SERVER),
    "openapi": (
        SERVER_MODULE,
        "Print the HTTP API's OpenAPI schema (what openapi/openapi.json holds).",
        SERVER,
    ),
    "login": (CLIENT_MODULE, "Save the server URL and a token for the client commands.", CLIENT),
    "logout": (CLIENT_MODULE, "Forget the saved server URL and token.", CLIENT),
    "plan": (
        CLIENT_MODULE,
        "Show what `fcplane deploy` would change, resource by resource.",
        CLIENT,
    ),
    "deploy": (
        CLIENT_MODULE,
        "Deploy the s.yaml project: hooks, code upload, plan, deploy, lock file.",
        CLIENT,
    ),
    "build": (
        CLIENT_MODULE,
        "Install a directory's dependencies (pip / npm, in the server's sandbox).",
        CLIENT,
    ),
    "diff": (CLIENT_MODULE, "Field-level changes between two revisions of a function.", CLIENT),
    "drift": (
        CLIENT_MODULE,
        "Compare FC with what fcplane applied: this project's functions, or all.",
        CLIENT,
    ),
    "rollback": (
        CLIENT_MODULE,
        "Deploy an earlier revision again: of the project, or of one function.",
        CLIENT,
    ),
    "revisions": (CLIENT_MODULE, "List the revisions of the project, or of one function.", CLIENT),
    "sync": (
        CLIENT_MODULE,
        "Download a function or a project as FC runs it: s.yaml and code.",
        CLIENT,
    ),
    "fun2s": (CLIENT_MODULE, "Convert a Funcraft template.yml into an fc3 s.yaml.", CLIENT),
    "jobs": (CLIENT_MODULE, "Stress tests and evaluations: run, follow, fetch reports.", CLIENT),
    "invoke": (
        CLIENT_MODULE,
        "Invoke a function once through fcplane (needs a deploy token; recorded for audit).",
        CLIENT,
    ),
    "logs": (
        CLIENT_MODULE,
        "Print a function's log lines, read from its logConfig's SLS logstore.",
        CLIENT,
    ),
    "metrics": (
        CLIENT_MODULE,
        "A function's invocations, errors, throttles, durations and instances, by period.",
        CLIENT,
    ),
}


@cache
def _defined_in(module: str) -> dict[str, Any]:
    """The commands ``module``'s Typer app defines, by name."""
    app: typer.Typer = importlib.import_module(module).app
    group: Any = typer.main.get_command(app)
    return dict(group.commands)


def real_command(name: str) -> Any:
    """The command ``name`` as its module defines it (imports that module)."""
    return _defined_in(COMMANDS[name][0])[name]


class _Deferred(TyperCommand):
    """Stands in for a command until it is parsed: then its module is imported."""

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        assert self.name is not None
        return real_command(self.name).make_context(info_name, args, parent=parent, **extra)


class _Lazy(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, short, panel) in COMMANDS.items():
            self.commands[name] = _Deferred(name, help=short, rich_help_panel=panel)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"fcplane {version('fcplane')}")
        except PackageNotFoundError:  # a checkout without an install
            typer.echo("fcplane (not installed)")
        raise typer.Exit()


app = typer.Typer(
    cls=_Lazy,
    no_args_is_help=True,
    add_completion=False,
    help="fcplane: a deployment control plane for Alibaba Cloud Function Compute 3.0. "
    "Server commands run fcplane itself; client commands talk to its HTTP API "
    "(FCPLANE_URL and FCPLANE_TOKEN, or `fcplane login`). Every option can also be set with "
    "the FCPLANE_* environment variable shown in its help.",
)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


def main() -> None:
    app()

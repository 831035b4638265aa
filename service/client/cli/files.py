"""`fcplane sync` and `fun2s`: from the server to files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.client.cli.app import app, sync_app
from service.client.cli.options import (
    Access,
    Account,
    Directory,
    Force,
    Output_,
    Template,
    Token,
    Url,
    api_target,
    execute,
)
from service.client.output import Format

if TYPE_CHECKING:
    from service.client.output import Output


@sync_app.command("function")
def sync_function(
    name: Annotated[str, typer.Argument(help="The function's name in FC.")],
    account: Account = None,
    directory: Directory = Path("."),
    force: Force = False,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """A live function (managed by fcplane or not) as `<region>_<name>.yaml` and its code.

    Examples:

      fcplane sync function hello -d hello-synced

      fcplane sync function legacy -A prod -d legacy

      cd legacy && fcplane deploy -t cn-hangzhou_legacy.yaml --adopt
    """

    def body(out: Output) -> int:
        from service.client.transfer import sync_function as do_sync

        return do_sync(out, api_target(url, token), name, account, directory, force)

    execute(output, body)


@sync_app.command("project")
def sync_project(
    name: Annotated[
        str | None, typer.Argument(help="The project. Default: the name in ./s.yaml.")
    ] = None,
    access: Access = None,
    template: Template = None,
    directory: Directory = Path("."),
    force: Force = False,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """The functions a project deployed to one account, as FC runs them now.

    Examples:

      fcplane sync project shop -d shop-live

      fcplane sync project -a prod -d ../prod-view
    """

    def body(out: Output) -> int:
        from service.client.transfer import sync_project as do_sync

        return do_sync(out, api_target(url, token), name, access, template, directory, force)

    execute(output, body)


@app.command()
def fun2s(
    template_yml: Annotated[Path, typer.Argument(help="The Funcraft template.yml.")],
    target: Annotated[
        Path | None, typer.Option("--target", help="Write the s.yaml here. Default: stdout.")
    ] = None,
    project: Annotated[str | None, typer.Option(help="The s.yaml's `name`.")] = None,
    access: Annotated[str, typer.Option(help="The s.yaml's `access`.")] = "default",
    force: Force = False,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Convert a Funcraft template.yml into an fc3 s.yaml.

    What cannot be mapped (RDS triggers, API Gateway, ...) is listed on stderr with
    the reason; nothing is dropped silently.

    Examples:

      fcplane fun2s template.yml --target s.yaml

      fcplane fun2s template.yml -o json | jq .unmapped
    """

    def body(out: Output) -> int:
        from service.client.transfer import fun2s as do_fun2s

        return do_fun2s(out, api_target(url, token), template_yml, target, project, access, force)

    execute(output, body)

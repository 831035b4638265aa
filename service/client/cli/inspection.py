"""`fcplane revisions`, `diff` and `drift`: reading what was deployed and what runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from service.client.cli.app import app
from service.client.cli.options import (
    Account,
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


@app.command()
def diff(
    function: Annotated[str, typer.Argument(help="Function name, or a resource of ./s.yaml.")],
    from_: Annotated[
        int | None, typer.Option("--from", help="Older revision. Default: TO - 1.")
    ] = None,
    to: Annotated[
        int | None, typer.Option("--to", help="Newer revision. Default: the head.")
    ] = None,
    account: Account = None,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Field-level changes between two revisions of a function.

    Examples:

      fcplane diff hello                 # the last deploy's changes

      fcplane diff hello --from 1 --to 3 -o json
    """

    def body(out: Output) -> int:
        from service.client.functions import diff as do_diff

        return do_diff(out, api_target(url, token), function, account, from_, to)

    execute(output, body)


@app.command()
def drift(
    function: Annotated[
        str | None,
        typer.Argument(help="One function (or resource). Default: the project's functions."),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Check every function fcplane manages, in every account.")
    ] = False,
    account: Account = None,
    template: Template = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 2 when something drifted (0 when not)."),
    ] = False,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Compare FC with what fcplane applied: this project's functions, or all.

    A difference is drift: an edit in the console or by another tool. It is shown
    field by field and recorded as a drift event (webhooks announce it).

    Examples:

      fcplane drift                      # the functions ./s.yaml deployed

      fcplane drift --all --detailed-exitcode
    """

    def body(out: Output) -> int:
        from service.client.functions import drift as do_drift

        code = do_drift(out, api_target(url, token), function, all_, account, template)
        return code if detailed_exitcode or code != 2 else 0

    execute(output, body)


@app.command()
def revisions(
    function: Annotated[
        str | None, typer.Argument(help="A function. Default: the project of ./s.yaml.")
    ] = None,
    account: Account = None,
    template: Template = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """List the revisions of the project, or of one function.

    Examples:

      fcplane revisions

      fcplane revisions hello -A prod -o json
    """

    def body(out: Output) -> int:
        from service.client.functions import revisions as do_revisions

        return do_revisions(out, api_target(url, token), function, account, template, limit)

    execute(output, body)

"""`fcplane invoke`: run a function once through fcplane."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.client.cli.app import app
from service.client.cli.options import Account, Output_, Token, Url, api_target, execute
from service.client.output import Format

if TYPE_CHECKING:
    from service.client.output import Output


@app.command()
def invoke(
    function: Annotated[str, typer.Argument(help="Function name, or a resource of ./s.yaml.")],
    payload: Annotated[
        str | None, typer.Option("--payload", "-e", help="The event as JSON text.")
    ] = None,
    payload_file: Annotated[
        Path | None,
        typer.Option("--payload-file", "-f", help="The event's raw bytes from a file (- stdin)."),
    ] = None,
    qualifier: Annotated[
        str | None, typer.Option("-q", "--qualifier", help="LATEST, a version or an alias.")
    ] = None,
    asynchronous: Annotated[
        bool, typer.Option("--async", help="Queue the event; print the async task's id.")
    ] = False,
    header: Annotated[
        list[str] | None,
        typer.Option("-H", "--header", help="Name:Value sent with the call; repeatable."),
    ] = None,
    task_id: Annotated[
        str | None, typer.Option("--task-id", help="With --async: the task's id.")
    ] = None,
    log: Annotated[
        bool, typer.Option("--log/--no-log", help="Show the invocation's log tail.")
    ] = True,
    account: Account = None,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Invoke a function once through fcplane (needs a deploy token; recorded for audit).

    Prints the log tail, FC's request id, duration and memory, then the answer.

    Exits 1 when the function itself failed.

    Examples:

      fcplane invoke hello --payload '{"name": "fc"}'

      fcplane invoke hello -q prod -f event.bin -o json

      fcplane invoke hello --async --payload '{"batch": 7}'
    """

    def body(out: Output) -> int:
        from service.client.invoke import invoke as do_invoke
        from service.client.invoke import request_body

        request = request_body(payload, payload_file, qualifier, asynchronous, header, task_id, log)
        return do_invoke(out, api_target(url, token), function, account, request)

    execute(output, body)

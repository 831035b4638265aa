"""`fcplane logs`: a function's log lines, from the SLS logstore of its logConfig."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from service.client.cli.app import app
from service.client.cli.options import Account, Output_, Token, Url, api_target, execute
from service.client.output import Format

if TYPE_CHECKING:
    from service.client.output import Output


@app.command()
def logs(
    function: Annotated[str, typer.Argument(help="Function name, or a resource of ./s.yaml.")],
    since: Annotated[
        str,
        typer.Option("--since", "-s", help="From when: 30s, 10m, 2h, 1d ago, or an ISO 8601 time."),
    ] = "15m",
    request_id: Annotated[
        str | None,
        typer.Option("--request-id", "-r", help="Only the lines of this invocation."),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            "--query", "-q", help='An SLS search: keywords, "phrases", field: value, joined by and.'
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help="At most this many lines.")
    ] = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C stops).")
    ] = False,
    account: Account = None,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Print a function's log lines, read from its logConfig's SLS logstore.

    The function needs logConfig.project and logConfig.logstore (FC writes its
    logs there); the local emulator answers SLS itself.

    Examples:

      fcplane logs hello --since 1h

      fcplane logs hello -r 1-6b1680b5-1a2b3c4d-5e6f7a8b9c0d1e2f

      fcplane logs hello -q 'error and timeout' -o json

      fcplane logs hello --follow
    """

    def body(out: Output) -> int:
        from service.client.logs import logs as read_logs

        params = {"from": since, "request_id": request_id, "query": query, "limit": limit}
        return read_logs(out, api_target(url, token), function, account, params, follow)

    execute(output, body)

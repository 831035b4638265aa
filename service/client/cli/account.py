"""`fcplane login` and `logout`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from service.client.cli.app import app
from service.client.cli.options import (
    Output_,
    Token,
    execute,
)
from service.client.output import Format

if TYPE_CHECKING:
    from service.client.output import Output


@app.command()
def login(
    url: Annotated[str, typer.Argument(help="fcplane's API, e.g. https://fcplane.example.com")],
    token: Token = None,
    output: Output_ = Format.text,
) -> None:
    """Save the server URL and a token for the client commands.

    The token comes from --token or FCPLANE_TOKEN, else it is asked for (hidden) on a
    terminal or read from stdin. It is checked against the server, then saved 0600 in
    $XDG_CONFIG_HOME/fcplane/context.json (or $FCPLANE_CONFIG_DIR/context.json).

    Examples:

      fcplane login http://127.0.0.1:8000          # paste the token when asked

      echo "$TOKEN" | fcplane login https://fcplane.example.com
    """

    def body(out: Output) -> int:
        from service.client.account import login as do_login

        return do_login(out, url, token)

    execute(output, body)


@app.command()
def logout(output: Output_ = Format.text) -> None:
    """Forget the saved server URL and token.

    Example:

      fcplane logout
    """

    def body(out: Output) -> int:
        from service.client.account import logout as do_logout

        return do_logout(out)

    execute(output, body)

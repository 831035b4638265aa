"""What the client commands share: their options, and how a command body runs
(its exit code, or one line and exit 1 for what went wrong)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.client.output import Format

if TYPE_CHECKING:
    from service.client.connection import Target
    from service.client.output import Output

Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="FCPLANE_URL",
        show_envvar=True,
        help="fcplane's API. Default: the `fcplane login` one, else http://127.0.0.1:8000.",
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="FCPLANE_TOKEN",
        show_envvar=True,
        show_default=False,
        help="API token. Default: the `fcplane login` one. Prefer the environment variable: "
        "command lines are visible to other users.",
    ),
]
Output_ = Annotated[
    Format, typer.Option("-o", "--output", help="text for people, json for scripts (stdout).")
]
Template = Annotated[
    Path | None,
    typer.Option("-t", "--template", help="The project's s.yaml. Default: ./s.yaml or ./s.yml."),
]
Environment = Annotated[
    str | None, typer.Option("--env", help="The env.yaml environment to apply (as `s --env`).")
]
Access = Annotated[
    str | None,
    typer.Option("-a", "--access", help="The s.yaml access alias to use (as `s -a`): the account."),
]
Adopt = Annotated[
    bool,
    typer.Option(
        "--adopt", help="Take over functions that already exist in FC or outside this project."
    ),
]
Account = Annotated[
    str | None,
    typer.Option(
        "-A", "--account", help="fcplane account alias. Default: the lock file's, else the default."
    ),
]
UseLocal = Annotated[
    bool, typer.Option("--use-local", help="On a conflict: deploy yours, overwriting the change.")
]
UseRemote = Annotated[
    bool, typer.Option("--use-remote", help="On a conflict: keep what runs now (adopt it).")
]
Merge = Annotated[
    bool, typer.Option("--merge", help="On a conflict: apply both sides' changes, field by field.")
]
Yes = Annotated[
    bool,
    typer.Option(
        "-y", "--yes", help="Ask nothing; a conflict then needs --use-local/--use-remote/--merge."
    ),
]
Message = Annotated[
    str | None, typer.Option("-m", "--message", help="Recorded with the revision and deployment.")
]


def execute(fmt: Format, body: Callable[[Output], int]) -> None:
    """Run a command body: its exit code, or one line (and exit 1) for what went wrong."""
    import sys

    from service.client.errors import ClientError
    from service.client.output import Output

    out = Output(fmt)
    try:
        code = body(out)
    except ClientError as error:
        print(f"fcplane: {error.message}", file=sys.stderr, flush=True)
        out.document({"error": error.as_dict()})
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        print("fcplane: interrupted", file=sys.stderr, flush=True)
        raise typer.Exit(130) from None
    raise typer.Exit(code)


def api_target(url: str | None, token: str | None) -> Target:
    from service.client.connection import target as resolve

    return resolve(url, token)


def chosen_strategy(use_local: bool, use_remote: bool, merge: bool) -> str | None:
    chosen = [
        name
        for name, given in (("use-local", use_local), ("use-remote", use_remote), ("merge", merge))
        if given
    ]
    if len(chosen) > 1:
        raise typer.BadParameter("give at most one of --use-local, --use-remote, --merge")
    return chosen[0] if chosen else None


Directory = Annotated[
    Path, typer.Option("-d", "--dir", help="Where to write the files. Default: here.")
]
Force = Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")]

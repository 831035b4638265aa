"""`fcplane build`: a code directory's dependencies installed by the server."""

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
def build(
    directory: Annotated[
        Path, typer.Argument(help="The code directory (with requirements.txt or package.json).")
    ] = Path(),
    runtime: Annotated[
        str | None,
        typer.Option(
            "--runtime",
            help="FC runtime to build for. Default: python3.10 with a requirements.txt, "
            "nodejs20 with a package.json.",
        ),
    ] = None,
    layer: Annotated[
        bool,
        typer.Option(
            "--layer", help="Build only the dependencies, published as an FC layer version."
        ),
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Build again even if the same build is cached.")
    ] = False,
    account: Account = None,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Install a directory's dependencies (pip / npm, in the server's sandbox).

    Zips DIR as `deploy` does, uploads it if the server lacks it, runs a `build` job
    and follows it; prints the built code package's sha256 (with --layer the layer
    version too). Exit 1 when the build fails, with pip's / npm's reason. In a
    project, `pre-deploy: - component: fc3 build` builds a resource at deploy time.

    Examples:

      fcplane build ./code

      fcplane build ./code --runtime python3.12 -o json

      fcplane build ./deps --layer -A prod
    """

    def body(out: Output) -> int:
        from service.client.build import run

        return run(out, api_target(url, token), directory, runtime, layer, no_cache, account)

    execute(output, body)

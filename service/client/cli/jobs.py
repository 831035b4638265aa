"""`fcplane jobs`: stress tests and evaluations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.client.cli.app import jobs_app
from service.client.cli.options import (
    Account,
    Output_,
    Token,
    Url,
    api_target,
    execute,
)
from service.client.output import Format

if TYPE_CHECKING:
    from service.client.output import Output


Kind = Annotated[str, typer.Argument(help="stress, eval-spec or eval-concurrency.")]
JobId = Annotated[str, typer.Argument(help="The job's id.")]


@jobs_app.command("run")
def jobsrun(
    kind: Kind,
    function: Annotated[str, typer.Argument(help="The function (or a resource of ./s.yaml).")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "-p", "--param", help="KEY=VALUE, repeatable; VALUE is JSON when it parses as JSON."
        ),
    ] = None,
    params: Annotated[
        str | None,
        typer.Option("--params", help="All parameters as a JSON object, or @FILE holding one."),
    ] = None,
    account: Account = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the job to its end; exit 1 unless it succeeded.")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(help="With --wait: save the HTML report here. Default: KIND-ID.html."),
    ] = None,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Start a stress test or an evaluation (parameters: README "Stress tests and evaluations").

    Examples:

      fcplane jobs run stress hello -p duration_s=10 -p users=5 --wait

      fcplane jobs run eval-spec hello -p invocations=10 --wait --report spec.html

      fcplane jobs run eval-concurrency api --params @eval.json --wait -o json
    """

    def body(out: Output) -> int:
        from service.client.jobs import run as do_run

        return do_run(
            out, api_target(url, token), kind, function, account, param, params, wait, report
        )

    execute(output, body)


@jobs_app.command("show")
def jobs_show(
    job: JobId,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the job to its end.")] = False,
    report: Annotated[
        Path | None, typer.Option(help="With --wait: save the HTML report here.")
    ] = None,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """A job's status, progress and result.

    Example:

      fcplane jobs show 0b9c... --wait
    """

    def body(out: Output) -> int:
        from service.client.jobs import show

        return show(out, api_target(url, token), job, wait, report)

    execute(output, body)


@jobs_app.command("list")
def jobs_list(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """The newest jobs.

    Example:

      fcplane jobs list --limit 5
    """

    def body(out: Output) -> int:
        from service.client.jobs import listing

        return listing(out, api_target(url, token), limit)

    execute(output, body)


@jobs_app.command("cancel")
def jobs_cancel(
    job: JobId,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Cancel a job (a running one stops within seconds).

    Example:

      fcplane jobs cancel 0b9c...
    """

    def body(out: Output) -> int:
        from service.client.jobs import cancel

        return cancel(out, api_target(url, token), job)

    execute(output, body)


@jobs_app.command("report")
def jobs_report(
    job: JobId,
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="FILE: save the HTML report there; json: print the job's result as JSON; "
            "text: a summary.",
        ),
    ] = "text",
    locust: Annotated[
        bool, typer.Option("--locust", help="Locust's own report (stress jobs) instead.")
    ] = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """A finished job's report: saved as HTML, or its result.

    Examples:

      fcplane jobs report 0b9c... -o report.html

      fcplane jobs report 0b9c... -o json | jq .result.recommendation
    """
    fmt = Format.json if output == "json" else Format.text

    def body(out: Output) -> int:
        from service.client.jobs import report as do_report

        file = None if output in ("json", "text") else Path(output)
        return do_report(out, api_target(url, token), job, file, locust)

    execute(fmt, body)

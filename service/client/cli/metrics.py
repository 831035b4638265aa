"""`fcplane metrics`: a function's invocations, errors, durations and instances, by period."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.client.cli.app import app
from service.client.cli.options import Account, Output_, Token, Url, api_target, execute
from service.client.output import Format

if TYPE_CHECKING:
    from service.client.output import Output

_SINCE = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
COLUMNS = (
    ("invocations", "invocations"),
    ("errors", "errors"),
    ("throttles", "throttles"),
    ("avg ms", "duration_avg_ms"),
    ("p99 ms", "duration_p99_ms"),
    ("instances", "concurrent_instances"),
)


def since_delta(text: str) -> timedelta:
    """``90s``, ``10m``, ``1h``, ``7d`` as a timedelta."""
    found = _SINCE.match(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise typer.BadParameter("give a positive number and a unit: 90s, 10m, 1h or 7d")
    return timedelta(seconds=int(found.group(1)) * _UNIT_SECONDS[found.group(2)])


def _cell(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.2f}" if value < 10 else f"{value:,.0f}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def rows(body: dict[str, Any], every: bool) -> tuple[list[list[str]], int]:
    """Table rows, one per period (only periods with data unless ``every``), and how many
    idle periods were left out."""
    metrics = body["metrics"]
    stamps = [t for t, _ in metrics["invocations"]["points"]]
    clock = "%H:%M:%S" if body["period"] < 60 else "%H:%M"
    table: list[list[str]] = []
    idle = 0
    for index, stamp in enumerate(stamps):
        values = [metrics[key]["points"][index][1] for _, key in COLUMNS]
        if not every and not any(values):
            idle += 1
            continue
        moment = datetime.fromtimestamp(stamp / 1000, UTC).strftime(f"%Y-%m-%d {clock}")
        units = [metrics[key]["unit"] for _, key in COLUMNS]
        table.append([moment, *(_cell(v, u) for v, u in zip(values, units, strict=True))])
    return table, idle


@app.command()
def metrics(
    function: Annotated[str, typer.Argument(help="Function name, or a resource of ./s.yaml.")],
    since: Annotated[
        str, typer.Option("--since", help="How far back: 90s, 10m, 1h, 7d (up to 31 days).")
    ] = "1h",
    period: Annotated[
        int,
        typer.Option(
            "--period",
            help="Seconds per row: 60, 300, 900, 3600 (emulator accounts also 1, 5, 10, 15, 30).",
        ),
    ] = 60,
    qualifier: Annotated[
        str | None,
        typer.Option("-q", "--qualifier", help="A version or alias. Default: the function."),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Also show periods in which nothing ran.")
    ] = False,
    account: Account = None,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """A function's invocations, errors, throttles, durations and instances, by period.

    Read by fcplane from CloudMonitor (FC's metrics, namespace acs_fc); an emulator
    account's emulator answers the same call. Times are UTC.

    Examples:

      fcplane metrics hello

      fcplane metrics hello --since 1d --period 3600 -o json
    """
    delta = since_delta(since)

    def body(out: Output) -> int:
        from service.client.connection import Api
        from service.client.errors import OK
        from service.client.functions import locate

        with Api(api_target(url, token)) as api:
            alias, name = locate(api, function, account)
            start = datetime.now(UTC) - delta
            found = api.get(
                f"/v1/accounts/{alias}/functions/{name}/metrics",
                **{"from": start.isoformat(), "period": period, "qualifier": qualifier},
            )
        totals = {key: found["metrics"][key]["total"] for _, key in COLUMNS}
        scope = f" ({qualifier})" if qualifier else ""
        out.line(
            f"Function {name}{scope} in account {alias}: {found['period']} s per row, "
            f"source {found['source']}",
            "bold",
        )
        table, idle = rows(found, every)
        out.table(["period (UTC)", *(label for label, _ in COLUMNS)], table)
        if idle:
            out.note(f"{idle} periods without invocations not shown (--all shows them)")
        out.line(
            f"total: {_cell(totals['invocations'], 'count')} invocations, "
            f"{_cell(totals['errors'], 'count')} errors, "
            f"{_cell(totals['throttles'], 'count')} throttles"
        )
        out.document(found)
        return OK

    execute(output, body)

"""The client commands' Typer apps; the modules beside this one add their commands."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False)
jobs_app = typer.Typer(
    no_args_is_help=True,
    help="Stress tests and evaluations: run, follow, fetch reports.",
)
sync_app = typer.Typer(
    no_args_is_help=True,
    help="Download a function or a project as FC runs it: s.yaml and code.",
)
app.add_typer(jobs_app, name="jobs")
app.add_typer(sync_app, name="sync")

"""The client commands' command lines, by subject. Only Typer is imported here: a
command imports what it runs (httpx, Rich, the s.yaml parser) when it runs, so
every `fcplane X --help` stays fast. service/cli.py reads `app`."""

from service.client.cli import account, build, files, inspection, jobs, project
from service.client.cli import invoke as invoke_command
from service.client.cli import logs as logs_command
from service.client.cli import metrics as metrics_command
from service.client.cli.app import app

__all__ = [
    "account",
    "app",
    "build",
    "files",
    "inspection",
    "invoke_command",
    "jobs",
    "logs_command",
    "metrics_command",
    "project",
]

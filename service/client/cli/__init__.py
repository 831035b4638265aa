"""The client commands' command lines, by subject. Only Typer is imported here: a
command imports what it runs (httpx, Rich, the s.yaml parser) when it runs, so
every `fcplane X --help` stays fast. service/cli.py reads `app`."""

from service.client.cli import account, build, files, inspection, jobs, project
from service.client.cli.app import app

__all__ = ["account", "app", "build", "files", "inspection", "jobs", "project"]

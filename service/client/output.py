"""What a command prints: text for people (colours and progress on a terminal only,
NO_COLOR honoured) or one JSON document on stdout for scripts (`-o json`).

In JSON mode stdout carries nothing but that document — notes, hook output and
progress go to stderr — so `fcplane deploy -o json | jq` always parses.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console


class Format(StrEnum):
    text = "text"
    json = "json"


# Plan and diff lines by their first character.
_STYLES = {"+": "green", "-": "red", "~": "yellow", "!": "bold red"}


class Output:
    def __init__(self, fmt: Format | str = Format.text) -> None:
        self.json = Format(fmt) is Format.json
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.err_tty = sys.stderr.isatty()
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, soft_wrap=True)
        return self._console

    @property
    def stream(self) -> TextIO:
        """Where text for people goes: stdout, or stderr while stdout is for JSON."""
        return sys.stderr if self.json else sys.stdout

    def line(self, text: str = "", style: str | None = None) -> None:
        """A line for people (not in JSON mode)."""
        if self.json:
            return
        if self.color and style:
            self.console.print(text, style=style, markup=False)
        else:
            print(text, flush=True)

    def diff_text(self, text: str, indent: str = "") -> None:
        """Plan or diff text, each change coloured by its sign."""
        for raw in text.splitlines():
            stripped = raw.lstrip()
            style = _STYLES.get(stripped[:1]) if stripped else None
            if stripped.endswith(":") and not raw.startswith(" "):
                style = "bold"
            self.line(indent + raw, style)

    def note(self, text: str) -> None:
        """Progress and hints, on stderr (also in JSON mode)."""
        print(text, file=sys.stderr, flush=True)

    def warn(self, text: str) -> None:
        prefix = "fcplane: warning: "
        if self.err_tty and not os.environ.get("NO_COLOR"):
            prefix = "\x1b[33m" + prefix + "\x1b[0m"
        print(prefix + text, file=sys.stderr, flush=True)

    def document(self, data: Any) -> None:
        """The JSON result (JSON mode only)."""
        if self.json:
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
            sys.stdout.flush()

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        if self.json:
            return
        widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
        for index, row in enumerate([headers, *rows]):
            text = "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            self.line(text, "bold" if index == 0 else None)

    @contextmanager
    def progress(self, description: str, total: float) -> Iterator[Callable[[float, str], None]]:
        """A progress bar on a terminal's stderr; elsewhere a no-op. Yields
        ``update(completed, note)``."""
        if not self.err_tty:
            yield lambda completed, note: None
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
        )
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(description, total=total, note="")

            def update(completed: float, note: str) -> None:
                bar.update(task, completed=completed, note=note)

            yield update

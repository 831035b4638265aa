"""Loading a report in headless Chromium: its DOM, console messages and a screenshot.

Used by the report tests and by ``benchmarks/jobs.py --screenshots``; needs a
``chromium`` binary (Debian package ``chromium``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Chromium logs every console message (errors, CSP violations, uncaught
# exceptions) as `[pid:tid:date:LEVEL:CONSOLE:line] "text", source: url (line)`.
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\] (.*)")
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class PageLoad:
    dom: str
    console: list[str]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def load(
    page: Path, screenshot: Path | None = None, width: int = 1100, height: int = 1400
) -> PageLoad:
    binary = chromium_binary()
    if binary is None:
        raise FileNotFoundError("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="fcplane-chromium-") as profile:
        argv = [
            binary, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
            f"--window-size={width},{height}",
        ]  # fmt: skip
        if screenshot is not None:
            argv.append(f"--screenshot={screenshot}")
        else:
            argv.append("--dump-dom")
        argv.append(page.resolve().as_uri())
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    console = [m.group(1) for m in map(_CONSOLE.search, done.stderr.splitlines()) if m]
    return PageLoad(dom=done.stdout, console=console)

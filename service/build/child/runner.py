"""One build step inside the build sandbox; its result goes to stdout as a tar stream.

Standard library only: it runs under ``python -I -S`` with no site-packages,
pip being mounted read-only at /var/fc/build/lib/pip. The step's tools (pip,
npm) write their output to stderr, never to stdout, which carries only the
result. Steps (``argv[1]``, JSON):

- ``{"step": "wheel", "sources": [...], "find_links": DIR}``: build each sdist
  or project directory into a wheel (``pip wheel``, offline, build
  dependencies from ``find_links``); result: ``<n>/<wheel>`` for ``sources[n]``.
- ``{"step": "install", "wheels": [...], "pip_target": [...]}``: install
  exactly these wheels (``pip install --no-deps --target``) for the target
  platform; result: the installed tree.
- ``{"step": "npm", "project": DIR}``: run the install scripts of an
  ``npm ci --ignore-scripts`` tree (``npm rebuild``, offline); result:
  ``node_modules``.

Exit status 0: done; 3: the step failed (a ``fcplane-build:`` line says why).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

PIP = "/var/fc/build/lib/pip"
WORK = Path("/tmp/work")
OUT = Path("/tmp/out")
STEP_FAILED = 3
_QUIET_PIP = ["--isolated", "--no-input", "--disable-pip-version-check", "--no-cache-dir"]


class StepFailed(Exception):
    pass


def _run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    print("+ " + " ".join(argv), file=sys.stderr, flush=True)
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=sys.stderr.fileno(),  # stdout is the result's channel
        stderr=sys.stderr.fileno(),
        check=False,
    )
    if done.returncode != 0:
        raise StepFailed(f"{Path(argv[0]).name} {argv[1] if len(argv) > 1 else ''} failed")


def _pip(*args: str) -> None:
    _run([sys.executable, "-s", PIP, *args[:1], *_QUIET_PIP, *args[1:]])


def wheel(job: dict[str, Any]) -> Path:
    OUT.mkdir()
    for index, source in enumerate(job["sources"]):
        wheel_dir = OUT / str(index)  # the host maps each wheel back to its source
        path = Path(source)
        if path.is_dir():
            # Setuptools writes build/ and *.egg-info into the project: copy it out
            # of the read-only input first.
            copy = WORK / f"project-{index}"
            shutil.copytree(path, copy, symlinks=True)
            path = copy
        _pip(
            "wheel",
            "--no-deps",
            "--no-index",
            "--find-links",
            job["find_links"],
            "--progress-bar",
            "off",
            "--wheel-dir",
            str(wheel_dir),
            str(path),
        )
    return OUT


def install(job: dict[str, Any]) -> Path:
    target = OUT / "tree"
    OUT.mkdir()
    _pip(
        "install",
        "--no-deps",
        "--no-index",
        "--no-compile",
        "--progress-bar",
        "off",
        "--target",
        str(target),
        *job["pip_target"],
        *job["wheels"],
    )
    if not target.is_dir():
        target.mkdir()
    _portable_scripts(target / "bin")
    _forget_local_origin(target)
    return target


def _forget_local_origin(target: Path) -> None:
    """pip records ``file:///code/wheels/...`` as where a wheel came from: not true on FC."""
    for direct_url in target.glob("*.dist-info/direct_url.json"):
        direct_url.unlink()
        record = direct_url.parent / "RECORD"
        if record.is_file():
            name = f"{direct_url.parent.name}/direct_url.json,"
            lines = record.read_text().splitlines(keepends=True)
            record.write_text("".join(x for x in lines if not x.startswith(name)))


def _portable_scripts(bin_dir: Path) -> None:
    """Console scripts name this sandbox's interpreter; on FC it is ``python3`` on PATH."""
    if not bin_dir.is_dir():
        return
    here = f"#!{sys.executable}".encode()
    for script in bin_dir.iterdir():
        if not script.is_file() or script.is_symlink():
            continue
        data = script.read_bytes()
        if data.startswith(here):
            script.write_bytes(b"#!/usr/bin/env python3" + data[len(here) :])


def npm(job: dict[str, Any]) -> Path:
    project = WORK / "project"
    shutil.copytree(job["project"], project, symlinks=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "npm_config_cache": "/tmp/npm-cache",
        "npm_config_offline": "true",
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    _run([job["npm"], "rebuild", "--foreground-scripts"], cwd=project, env=env)
    modules = project / "node_modules"
    if not modules.is_dir():
        modules.mkdir()
    return modules


def _write_tar(root: Path) -> None:
    with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for child in sorted(root.iterdir()):
            tar.add(str(child), arcname=child.name, recursive=True)


def main() -> int:
    job = json.loads(sys.argv[1])
    WORK.mkdir(exist_ok=True)
    steps = {"wheel": wheel, "install": install, "npm": npm}
    try:
        result = steps[job["step"]](job)
    except StepFailed as exc:
        print(f"fcplane-build: {exc}", file=sys.stderr, flush=True)
        return STEP_FAILED
    _write_tar(result)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Python packages without a wheel: fetched as data, built into wheels in the sandbox.

Two ways a source distribution enters a build: requirements.txt lists one (an
sdist file or a project directory inside the package), or pip finds no wheel of
a requirement for the target and the configured indexes have its sdist
(``indexes.py`` finds and fetches it, without pip, which would run it). Either
way, it is built here:

- its build requirements (``[build-system] requires``, read from the archive as
  TOML; setuptools by default) are downloaded on the host as wheels for the
  local interpreter, kept in the cache's ``build-requirements`` directory;
- ``pip wheel --no-index`` builds it in the sandbox, offline;
- a wheel with compiled code is refused (it would be for the local Python, not
  FC's); a pure-Python wheel is kept in the cache by the source's sha256, so
  the same sdist is built once and the resolution that contains it is stable.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

from . import indexes
from .archive import Tree
from .cache import key_of
from .contract import BuildFailed
from .process import run
from .runtimes import PythonTarget
from .sandbox import INPUT, run_step
from .steps import StepContext

DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0",)
ALWAYS_BUILD_REQUIRES = ("wheel",)  # setuptools' legacy backend asks for it at build time
_NO_MATCH = re.compile(r"No matching distribution found for (.+)$", re.MULTILINE)
OriginKind = Literal["index", "package", "sdist", "project"]


def pip_command() -> list[str]:
    """fcplane's own pip, with the host's pip configuration (indexes, find-links)."""
    return [sys.executable, "-m", "pip"]


def pip_error(output: str) -> str:
    errors = [line.strip() for line in output.splitlines() if line.startswith("ERROR:")]
    return errors[-1].removeprefix("ERROR: ") if errors else "pip failed"


def wheel_name(filename: str) -> str:
    return str(parse_wheel_filename(filename)[0])


@dataclass(frozen=True)
class Pending:
    """A source waiting to be built: its path in the sandbox, and what it is."""

    path: str  # /code/sources/<file> or /code/src/<directory>
    kind: Literal["sdist", "project"]

    @property
    def label(self) -> str:
        return self.path.removeprefix(f"{INPUT}/sources/").removeprefix(f"{INPUT}/src/")


@dataclass
class Origins:
    """Where each distribution not taken from an index came from (canonical name ->)."""

    by_name: dict[str, tuple[OriginKind, str]] = field(default_factory=dict)

    def of(self, name: str) -> tuple[OriginKind, str]:
        return self.by_name.get(canonicalize_name(name), ("index", ""))


class SourceBuilder:
    def __init__(self, target: PythonTarget, *, pre: bool) -> None:
        self.target = target
        self.pre = pre

    @property
    def _where(self) -> str:
        return f"python{self.target.python_version} on {self.target.platform}"

    async def fetch_missing(
        self, ctx: StepContext, pip_output: str, sources: Path, origins: Origins
    ) -> Pending:
        """The sdist of the requirement pip found no wheel for; else the resolution failed."""
        missing = _NO_MATCH.search(pip_output)
        if missing is None:
            raise BuildFailed(pip_error(pip_output), pip_output, code="resolution_failed")
        try:
            requirement = Requirement(missing.group(1).strip())
        except InvalidRequirement:
            raise BuildFailed(pip_error(pip_output), pip_output, code="resolution_failed") from None
        name = canonicalize_name(requirement.name)
        if name in origins.by_name:
            kind, what = origins.by_name[name]
            raise BuildFailed(
                f"{requirement} has no wheel for {self._where}, and {kind} {what} did not give one",
                pip_output,
                code="resolution_failed",
            )
        sdist = await asyncio.to_thread(
            indexes.find_sdist,
            requirement,
            self.target.python_version,
            indexes.locations_from_pip(pip_output),
            ctx.deadline,
            pre=self.pre,
        )
        if sdist is None:
            raise BuildFailed(
                f"no distribution of {requirement} for {self._where} in the configured package "
                "indexes (neither a wheel nor a source distribution)",
                pip_output,
                code="resolution_failed",
            )
        ctx.say(f"{requirement}: no wheel for {self._where}; building {sdist.filename} from source")
        try:
            await asyncio.to_thread(
                indexes.fetch, sdist, sources, ctx.deadline, ctx.limits.max_output_bytes
            )
        except (OSError, httpx.HTTPError) as exc:
            raise BuildFailed(
                f"could not fetch {sdist.filename}: {exc}", code="resolution_failed"
            ) from exc
        return Pending(f"{INPUT}/sources/{sdist.filename}", "sdist")

    async def build(
        self, ctx: StepContext, pending: list[Pending], inputs: Path, links: Path, origins: Origins
    ) -> None:
        """Build ``pending`` into wheels in ``links`` (or take the wheels built before)."""
        keys, todo = [], []
        for index, source in enumerate(pending):
            host = inputs / source.path.removeprefix(INPUT + "/")
            key = key_of({"source": _digest(host), "python": self.target.local_version})
            keys.append(key)
            cached = None if ctx.no_cache else ctx.cache.wheel(key)
            if cached is None:
                todo.append(index)
            else:
                self._take(cached.name, cached.read_bytes(), source, links, origins)
        if not todo:
            ctx.say("source distributions: reusing the wheels built before")
            return
        requires = set(ALWAYS_BUILD_REQUIRES)
        for index in todo:
            requires.update(_build_requires(inputs / pending[index].path.removeprefix(INPUT + "/")))
        await self._build_requirements(ctx, sorted(requires), inputs / "buildwheels")
        ctx.say(f"building {len(todo)} source distribution(s) in the sandbox")
        built = ctx.work / "built.tar"
        await run_step(
            {
                "step": "wheel",
                "sources": [pending[i].path for i in todo],
                "find_links": f"{INPUT}/buildwheels",
            },
            input_dir=inputs,
            result_tar=built,
            state_dir=ctx.state_dir,
            deadline=ctx.deadline,
            memory_mb=ctx.limits.memory_mb,
            max_output_bytes=ctx.limits.max_output_bytes,
        )
        with Tree(built) as tree:
            for path in tree.files:
                position, _, wheel = path.partition("/")  # runner.py: <n>/<wheel>
                if not (position.isdigit() and wheel.endswith(".whl") and "/" not in wheel):
                    continue
                index = todo[int(position)]
                data = tree.read(path)
                self._take(wheel, data, pending[index], links, origins)
                ctx.cache.store_wheel(keys[index], wheel, data, replace=ctx.no_cache)

    async def _build_requirements(self, ctx: StepContext, requires: list[str], dest: Path) -> None:
        """Wheels of the build backends (setuptools, ...) for the local interpreter: from
        the cache's shared directory when it has them, else downloaded and added to it."""
        shared = ctx.cache.root / "build-requirements"
        shared.mkdir(parents=True, exist_ok=True)
        common = [*pip_command(), "download", "--no-input", "--disable-pip-version-check"]
        common += ["--progress-bar", "off", "--only-binary=:all:", "--dest", str(dest)]
        offline = await run(
            [*common, "--no-index", "--find-links", str(shared), *requires],
            cwd=ctx.work,
            deadline=ctx.deadline,
        )
        if offline.returncode == 0:
            return
        ctx.say("downloading build requirements: " + ", ".join(requires))
        done = await run([*common, *requires], cwd=ctx.work, deadline=ctx.deadline)
        if done.returncode != 0:
            raise BuildFailed(
                "the build requirements of a source distribution are not available as wheels: "
                + pip_error(done.output),
                done.output,
                code="resolution_failed",
            )
        for wheel in dest.glob("*.whl"):
            # Complete files only, each renamed in: a concurrent build never reads half.
            staged = shared / f".{wheel.name}.{os.getpid()}.tmp"
            shutil.copyfile(wheel, staged)
            os.replace(staged, shared / wheel.name)

    def _take(
        self, wheel: str, data: bytes, source: Pending, links: Path, origins: Origins
    ) -> None:
        name, _version, _build, tags = parse_wheel_filename(wheel)
        if not all(tag.abi == "none" and tag.platform == "any" for tag in tags):
            tag = sorted(str(t) for t in tags)[0]
            raise BuildFailed(
                f"{name} has no wheel for {self._where}; built from source here it contains "
                f"compiled code for the local Python {self.target.local_version} ({tag}), which "
                f"FC's {self.target.runtime} cannot load. Publish a wheel for the runtime.",
                code="install_failed",
            )
        origins.by_name[str(name)] = (source.kind, source.label)
        (links / wheel).write_bytes(data)


def _digest(path: Path) -> str:
    """sha256 of a file, or of a directory's paths and contents."""
    if path.is_file():
        with path.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    sha = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        sha.update(file.relative_to(path).as_posix().encode() + b"\0")
        sha.update(bytes.fromhex(_digest(file)))
    return sha.hexdigest()


def _build_requires(path: Path) -> list[str]:
    """``[build-system] requires`` of an sdist or project, read as data (never executed)."""
    text: str | None = None
    try:
        if path.is_dir():
            pyproject = path / "pyproject.toml"
            text = pyproject.read_text() if pyproject.is_file() else None
        elif path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.count("/") == 1]
                found = [n for n in names if n.endswith("/pyproject.toml")]
                text = archive.read(found[0]).decode() if found else None
        else:
            with tarfile.open(path) as archive:
                for member in archive.getmembers():
                    if member.name.count("/") == 1 and member.name.endswith("/pyproject.toml"):
                        stream = archive.extractfile(member)
                        text = stream.read().decode() if stream is not None else None
                        break
        if text is None:
            return list(DEFAULT_BUILD_REQUIRES)
        system = tomllib.loads(text).get("build-system", {})
    except (OSError, tarfile.TarError, zipfile.BadZipFile, UnicodeDecodeError, ValueError):
        return list(DEFAULT_BUILD_REQUIRES)
    requires = system.get("requires") if isinstance(system, dict) else None
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        return list(DEFAULT_BUILD_REQUIRES)
    valid = []
    for requirement in requires:
        try:
            Requirement(requirement)
        except InvalidRequirement:
            continue
        if "://" not in requirement and "@" not in requirement:
            valid.append(requirement)
    return valid

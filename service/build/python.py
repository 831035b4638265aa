"""Python dependencies: resolved on the host without running them, installed in the sandbox.

1. Resolve and download on the host, wheels only: ``pip download --only-binary=:all:
   --platform manylinux2014_x86_64 --implementation cp --python-version X.Y``
   with the host's pip configuration (its indexes and find-links). A wheel is
   data: reading its metadata runs nothing.
2. A requirement without such a wheel: its sdist is fetched as data
   (``indexes.py``), its build requirements downloaded as wheels for the local
   interpreter, and it is built into a wheel in the sandbox, offline. Then step 1
   runs again with that wheel, so its own dependencies are resolved too. The
   same goes for sdists and project directories listed by path in
   requirements.txt. Only pure-Python results can serve another Python version;
   a compiled one is refused with the reason.
3. Install exactly the downloaded wheels in the sandbox, offline
   (``pip install --no-deps --no-index --target``), for the target platform.

The installed tree is cached by the resolution (each wheel's name and sha256),
so a new source with the same dependencies, or the same layer again, skips step 3.
"""

from __future__ import annotations

import asyncio
import email.parser
import hashlib
from pathlib import Path
from typing import Any

import pip
from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

from .archive import Source, Tree
from .cache import key_of
from .contract import BuildFailed
from .process import Completed, run
from .requirements import REQUIREMENTS_FILE, Requirements, parse
from .runtimes import PythonTarget
from .sandbox import INPUT, run_step
from .sdists import Origins, Pending, SourceBuilder, pip_command, wheel_name
from .steps import Deps, StepContext

MAX_SOURCE_ROUNDS = 5


class PythonDependencies:
    """The Python side of a build; see the module docstring for the steps."""

    layer_prefix = "python/"
    code_prefix = ""

    def __init__(self, target: PythonTarget, source: Source) -> None:
        self.target = target
        self.source = source
        self.requirements = parse(source) if REQUIREMENTS_FILE in source else Requirements()
        self.warnings = list(self.requirements.warnings)
        if REQUIREMENTS_FILE not in source:
            self.warnings.append("no requirements.txt: nothing to install")

    @property
    def empty(self) -> bool:
        return self.requirements.empty

    def replaced_in_code(self) -> str | None:
        return None

    def describe_requirements(self) -> list[str]:
        return self.requirements.normalized().splitlines()

    def inputs_digest(self) -> str:
        """What a layer's content depends on: the requirements and the files they name."""
        local = [ref.path for ref in self.requirements.local]
        return key_of(
            {"requirements": self.requirements.normalized(), "local": self.source.digest(local)}
        )

    # -- resolution ----------------------------------------------------------------

    async def dependencies(self, ctx: StepContext) -> Deps:
        inputs = ctx.work / "in"  # the sandbox's /code
        for name in ("wheels", "sources", "src", "buildwheels"):
            (inputs / name).mkdir(parents=True)
        links = ctx.work / "links"  # wheels of the package and built from source
        links.mkdir()
        origins = Origins()
        sources = SourceBuilder(self.target, pre=self.requirements.pre)
        pending = await asyncio.to_thread(self._stage_local, inputs, links, origins)
        ctx.say("resolving requirements for " + self.target.runtime)
        for _round in range(MAX_SOURCE_ROUNDS):
            if pending:
                await sources.build(ctx, pending, inputs, links, origins)
            done = await self._download(ctx, inputs / "wheels", links)
            if done.returncode == 0:
                break
            pending = [await sources.fetch_missing(ctx, done.output, inputs / "sources", origins)]
        else:
            raise BuildFailed(
                f"more than {MAX_SOURCE_ROUNDS} requirements need a source build; publish wheels",
                done.output,
                code="resolution_failed",
            )
        wheels = sorted((inputs / "wheels").glob("*.whl"))
        downloaded = sum(w.stat().st_size for w in wheels)
        if downloaded > ctx.limits.max_output_bytes:
            raise BuildFailed(
                f"the dependencies' wheels are {downloaded} bytes, over the output limit of "
                f"{ctx.limits.max_output_bytes}",
                code="output_too_large",
            )
        resolved = [(w.name, _sha256(w)) for w in wheels]
        key = key_of({"target": self.target.describe(), "wheels": resolved})
        ctx.say(f"resolved {len(wheels)} package(s)")
        cached = None if ctx.no_cache else ctx.cache.deps(key)
        if cached is not None:
            ctx.say("dependencies unchanged: reusing the installed tree")
            return Deps(cached.tree, cached.meta, key, reused=True)
        ctx.say(f"installing {len(wheels)} package(s) in the sandbox")
        tree = ctx.work / "tree.tar"
        log = await run_step(
            {
                "step": "install",
                "wheels": [f"{INPUT}/wheels/{w.name}" for w in wheels],
                "pip_target": self._target_options(),
            },
            input_dir=inputs,
            result_tar=tree,
            state_dir=ctx.state_dir,
            deadline=ctx.deadline,
            memory_mb=ctx.limits.memory_mb,
            max_output_bytes=ctx.limits.max_output_bytes,
        )
        meta = await asyncio.to_thread(self._describe, tree, wheels, origins)
        meta["log"] = log[-4000:]
        stored = ctx.cache.store_deps(key, tree, meta, replace=ctx.no_cache)
        return Deps(stored.tree, meta, key, reused=False)

    def _target_options(self) -> list[str]:
        t = self.target
        return [
            "--only-binary=:all:",
            "--platform",
            t.platform,
            "--implementation",
            t.implementation,
            "--python-version",
            t.python_version,
        ]

    def _stage_local(self, inputs: Path, links: Path, origins: Origins) -> list[Pending]:
        """Local wheels go to the find-links dir; sdists and projects wait for the sandbox."""
        pending: list[Pending] = []
        for ref in self.requirements.local:
            name = Path(ref.path).name
            if ref.kind == "wheel":
                (links / name).write_bytes(self.source.read(ref.path))
                origins.by_name[wheel_name(name)] = ("package", ref.path)
            elif ref.kind == "sdist":
                (inputs / "sources" / name).write_bytes(self.source.read(ref.path))
                pending.append(Pending(f"{INPUT}/sources/{name}", "sdist"))
            else:
                self.source.extract([ref.path], inputs / "src")
                pending.append(Pending(f"{INPUT}/src/{ref.path}", "project"))
        return pending

    async def _download(self, ctx: StepContext, dest: Path, links: Path) -> Completed:
        lines = list(self.requirements.named)
        for wheel in sorted(links.glob("*.whl")):
            # In pip's hash-checking mode (any --hash given) every line needs one.
            lines.append(f"{wheel} --hash=sha256:{_sha256(wheel)}" if self._hashing else str(wheel))
        (ctx.work / "requirements.txt").write_text("\n".join(lines) + "\n")
        argv = [
            *pip_command(),
            "download",
            "--no-input",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            *self._target_options(),
            "--dest",
            str(dest),
            "--find-links",
            str(links),
            "-r",
            str(ctx.work / "requirements.txt"),
        ]
        if self.requirements.constraints:
            (ctx.work / "constraints.txt").write_text("\n".join(self.requirements.constraints))
            argv += ["-c", str(ctx.work / "constraints.txt")]
        if self.requirements.pre:
            argv.append("--pre")
        return await run(argv, cwd=ctx.work, deadline=ctx.deadline)

    @property
    def _hashing(self) -> bool:
        return any("--hash=" in line for line in self.requirements.named)

    # -- the manifest ----------------------------------------------------------------

    def _describe(self, tree_tar: Path, wheels: list[Path], origins: Origins) -> dict[str, Any]:
        by_name = {wheel_name(w.name): w.name for w in wheels}
        packages = []
        with Tree(tree_tar) as tree:
            for path in sorted(tree.files):
                top, _, leaf = path.partition("/")
                if not top.endswith(".dist-info") or leaf != "METADATA":
                    continue
                headers = email.parser.BytesHeaderParser().parsebytes(tree.read(path))
                name, version = str(headers["Name"]), str(headers["Version"])
                files = _record_files(tree, top)
                kind, where = origins.of(name)
                packages.append(
                    {
                        "name": name,
                        "version": version,
                        "size": sum(tree.files[f].size for f in files),
                        "files": len(files),
                        "wheel": by_name.get(canonicalize_name(name)),
                        "source": kind,  # index, package (a vendored wheel), sdist, project
                        **({"from": where} if where else {}),
                    }
                )
            size = tree.size
        warnings = []
        built = [p for p in packages if p["source"] in ("sdist", "project")]
        if built:
            names = ", ".join(f"{p['name']} {p['version']} ({p['from']})" for p in built)
            warnings.append(
                f"built from source in the sandbox (pure Python, so valid for "
                f"{self.target.runtime}): {names}"
            )
        compiled = sorted(
            wheel_name(w.name)
            for w in wheels
            if not all(t.abi == "none" for t in parse_wheel_filename(w.name)[3])
        )
        if compiled and self.target.python_version != self.target.local_version:
            warnings.append(
                f"compiled wheels for {self.target.runtime} ({', '.join(compiled)}) are right "
                f"for FC, but the local emulator runs {self.target.runtime} functions on "
                f"Python {self.target.local_version} and cannot import them"
            )
        return {
            "packages": packages,
            "size": size,
            "warnings": warnings,
            "tools": {"pip": pip.__version__},
        }


def _record_files(tree: Tree, dist_info: str) -> list[str]:
    """The files a distribution installed (its RECORD), as far as they are in the tree."""
    record = f"{dist_info}/RECORD"
    if record not in tree.files:
        return [p for p in tree.files if p.startswith(dist_info + "/")]
    files = []
    for line in tree.read(record).decode(errors="replace").splitlines():
        path = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line
        if path in tree.files:
            files.append(path)
    return files


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()

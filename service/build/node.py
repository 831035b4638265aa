"""Node.js dependencies: ``npm ci --omit=dev`` with scripts off on the host, scripts in the sandbox.

1. The lock file is checked as data: every package must come from the
   configured npm registry or from a path inside the source package (no git,
   no other hosts, no paths outside), so npm on the host fetches nothing else.
2. ``npm ci --omit=dev --ignore-scripts --install-links`` on the host, in a
   directory holding only package.json, the lock and the local packages (never
   the user's ``.npmrc``): it downloads and unpacks, running no package code.
3. When a package has install scripts (``hasInstallScript`` in the lock, which
   covers node-gyp builds), ``npm rebuild`` runs them in the sandbox, offline.

The installed tree is cached by the lock's entries, so an unchanged lock skips
npm entirely. The package's own lifecycle scripts are not run (a build
produces dependencies, not a modified source).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import tarfile
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

from .archive import Source, Tree
from .cache import key_of
from .contract import BuildFailed
from .process import host_environment, run
from .runtimes import NodeTarget
from .sandbox import INPUT, run_step
from .steps import Deps, StepContext

LOCK_FILES = ("npm-shrinkwrap.json", "package-lock.json")
NPM_REGISTRY = "registry.npmjs.org"  # npm rewrites it to the configured registry
_SEMVER = re.compile(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


class NodeDependencies:
    layer_prefix = "nodejs/node_modules/"
    code_prefix = "node_modules/"

    def __init__(self, target: NodeTarget, source: Source) -> None:
        self.target = target
        self.source = source
        self.warnings: list[str] = []
        manifest = source.read_text("package.json")
        if manifest is None:
            self.package: dict[str, Any] = {}
            self.lock_name, self.lock_text, self.lock = "", "", {}
            self.entries: dict[str, dict[str, Any]] = {}
            self.warnings.append("no package.json: nothing to install")
            return
        self.package = _json("package.json", manifest)
        self.lock_name = next((n for n in LOCK_FILES if n in source), "")
        self.lock_text = source.read_text(self.lock_name) or "" if self.lock_name else ""
        self.lock = _json(self.lock_name, self.lock_text) if self.lock_name else {}
        if not self.lock_name and self._declared():
            raise BuildFailed(
                "npm ci needs package-lock.json: run `npm install --package-lock-only` and "
                "add the lock file to the package",
                code="invalid_source",
            )
        if ".npmrc" in source:
            self.warnings.append(".npmrc ignored: builds use the server's npm configuration")
        scripts = self.package.get("scripts") or {}
        own = sorted(s for s in ("preinstall", "install", "postinstall", "prepare") if s in scripts)
        if own:
            self.warnings.append(
                f"package.json's own {', '.join(own)} script(s) are not run by the build"
            )
        self.entries = self._checked_entries()
        if target.node_major != int(target.local_version.split(".")[0]):
            self.warnings.append(
                f"install scripts ran on the local node {target.local_version}, not "
                f"node {target.node_major}: native addons may need a rebuild for {target.runtime}"
            )

    def _declared(self) -> dict[str, str]:
        declared: dict[str, str] = {}
        for field in ("dependencies", "optionalDependencies"):
            value = self.package.get(field) or {}
            if isinstance(value, dict):
                declared.update({str(k): str(v) for k, v in value.items()})
        return declared

    @property
    def empty(self) -> bool:
        return not self._declared()

    def replaced_in_code(self) -> str | None:
        return "node_modules"

    def describe_requirements(self) -> list[str]:
        return [f"{name}@{spec}" for name, spec in sorted(self._declared().items())]

    def _local_paths(self) -> list[str]:
        paths = set()
        for key, entry in self.entries.items():
            resolved = str(entry.get("resolved", ""))
            if entry.get("link"):
                paths.add(resolved)
            elif resolved.startswith("file:"):
                paths.add(resolved.removeprefix("file:"))
            elif key and not _is_module(key):
                paths.add(key)  # a linked package's own directory
        return sorted(_inside(p) for p in paths)

    def inputs_digest(self) -> str:
        return key_of(
            {
                "package.json": self.source.digest("package.json"),
                "lock": self.lock_text,
                "local": self.source.digest(self._local_paths()),
            }
        )

    # -- the lock, as data -------------------------------------------------------------

    def _checked_entries(self) -> dict[str, dict[str, Any]]:
        """Lock entries by path (lockfile v2/v3 ``packages``; v1 ``dependencies`` mapped)."""
        packages = self.lock.get("packages")
        if isinstance(packages, dict):
            entries = {str(k): v for k, v in packages.items() if isinstance(v, dict)}
        else:
            entries = {}
            _flatten_v1(self.lock.get("dependencies") or {}, "node_modules/", entries)
        hosts = {NPM_REGISTRY, *_configured_registry_hosts(self.target.npm)}
        for key, entry in entries.items():
            resolved = str(entry.get("resolved", "") or "")
            where = f"{self.lock_name}: {key or '(root)'}"
            if key and not _is_module(key):
                _inside(key, where)
            if entry.get("link") or resolved.startswith("file:"):
                _inside(resolved.removeprefix("file:"), where)
            elif resolved:
                url = urlparse(resolved)
                if url.scheme not in ("http", "https") or url.hostname not in hosts:
                    raise BuildFailed(
                        f"{where} resolves to {resolved!r}; a build installs only from the "
                        f"configured npm registry ({', '.join(sorted(hosts))}) or from paths "
                        "inside the package",
                        code="invalid_requirements",
                    )
            elif _is_module(key) and not _SEMVER.fullmatch(str(entry.get("version", ""))):
                # Without ``resolved`` npm fetches name@version from the registry: the
                # version must be a version, not a URL or a path.
                raise BuildFailed(
                    f"{where}: version {entry.get('version')!r} is not a plain version",
                    code="invalid_requirements",
                )
        return entries

    # -- install -------------------------------------------------------------------------

    async def dependencies(self, ctx: StepContext) -> Deps:
        key = key_of(
            {
                "target": self.target.describe(),
                "node": self.target.local_version,
                "entries": {
                    k: [e.get("version"), e.get("resolved"), e.get("integrity"), e.get("link")]
                    for k, e in self.entries.items()
                    if k and not e.get("dev")
                },
                "local": self.source.digest(self._local_paths()),
            }
        )
        cached = None if ctx.no_cache else ctx.cache.deps(key)
        if cached is not None:
            ctx.say("lock unchanged: reusing the installed node_modules")
            return Deps(cached.tree, cached.meta, key, reused=True)
        project = ctx.work / "node"
        project.mkdir()
        await asyncio.to_thread(self._stage, project)
        ctx.say("npm ci --omit=dev (scripts off)")
        done = await run(
            [
                self.target.npm,
                "ci",
                "--omit=dev",
                "--ignore-scripts",
                "--install-links",
                "--no-audit",
                "--no-fund",
                "--no-update-notifier",
            ],
            cwd=project,
            deadline=ctx.deadline,
            env={**host_environment(), "NODE_ENV": "production"},
        )
        if done.returncode != 0:
            raise BuildFailed(_npm_error(done.output), done.output, code="resolution_failed")
        tree = ctx.work / "tree.tar"
        scripts = sorted(
            _module_name(k)
            for k, e in self.entries.items()
            if _is_module(k) and e.get("hasInstallScript") and not e.get("dev")
        )
        log = done.output
        if scripts:
            ctx.say(f"running install scripts in the sandbox: {', '.join(scripts)}")
            log += await run_step(
                {"step": "npm", "project": INPUT, "npm": self.target.npm},
                input_dir=project,
                result_tar=tree,
                state_dir=ctx.state_dir,
                deadline=ctx.deadline,
                memory_mb=ctx.limits.memory_mb,
                max_output_bytes=ctx.limits.max_output_bytes,
            )
        else:
            await asyncio.to_thread(_tar, project / "node_modules", tree)
        meta = await asyncio.to_thread(self._describe, tree, scripts)
        meta["log"] = log[-4000:]
        stored = ctx.cache.store_deps(key, tree, meta, replace=ctx.no_cache)
        return Deps(stored.tree, meta, key, reused=False)

    def _stage(self, project: Path) -> None:
        (project / "package.json").write_bytes(self.source.read("package.json"))
        (project / self.lock_name).write_bytes(self.source.read(self.lock_name))
        self.source.extract(self._local_paths(), project)

    def _describe(self, tree_tar: Path, scripts: list[str]) -> dict[str, Any]:
        sizes: dict[str, int] = {}
        files: dict[str, int] = {}
        with Tree(tree_tar) as tree:
            modules = {k.removeprefix("node_modules/") for k in self.entries if _is_module(k)}
            for path, member in tree.files.items():
                owner = _owner(path, modules)
                if owner is not None:
                    sizes[owner] = sizes.get(owner, 0) + member.size
                    files[owner] = files.get(owner, 0) + 1
            size = tree.size
        packages = []
        for key, entry in sorted(self.entries.items()):
            module = key.removeprefix("node_modules/")
            if not _is_module(key) or entry.get("dev") or module not in files:
                continue
            resolved = str(entry.get("resolved", ""))
            packages.append(
                {
                    "name": _module_name(key),
                    "path": module,
                    "version": entry.get("version") or self._linked_version(resolved),
                    "size": sizes.get(module, 0),
                    "files": files.get(module, 0),
                    "source": "package"
                    if entry.get("link") or resolved.startswith("file:")
                    else "registry",
                    "install_script": bool(entry.get("hasInstallScript")),
                }
            )
        warnings = []
        if scripts:
            warnings.append(f"install scripts ran in the sandbox, offline: {', '.join(scripts)}")
        return {
            "packages": packages,
            "size": size,
            "warnings": warnings,
            "tools": {"node": self.target.local_version, "npm": _npm_version(self.target.npm)},
        }

    def _linked_version(self, resolved: str) -> str | None:
        linked = self.entries.get(resolved, {})
        version = linked.get("version")
        return str(version) if version else None


def _json(name: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BuildFailed(f"{name} is not valid JSON: {exc}", code="invalid_source") from exc
    if not isinstance(value, dict):
        raise BuildFailed(f"{name} is not a JSON object", code="invalid_source")
    return value


def _is_module(key: str) -> bool:
    return key.startswith("node_modules/") or "/node_modules/" in key


def _module_name(key: str) -> str:
    return key.rsplit("node_modules/", 1)[-1]


def _owner(path: str, modules: set[str]) -> str | None:
    """The deepest installed package a tree path belongs to."""
    parts = path.split("/")
    for end in range(len(parts) - 1, 0, -1):
        candidate = "/".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _inside(path: str, where: str = "package-lock.json") -> str:
    clean = PurePosixPath(path)
    if clean.is_absolute() or path.startswith("~") or ".." in clean.parts or not clean.parts:
        raise BuildFailed(
            f"{where}: {path!r} is not a path inside the package", code="invalid_requirements"
        )
    return clean.as_posix()


def _flatten_v1(deps: dict[str, Any], prefix: str, out: dict[str, dict[str, Any]]) -> None:
    for name, entry in deps.items():
        if not isinstance(entry, dict):
            continue
        version = str(entry.get("version", ""))
        mapped = dict(entry)
        if version.startswith("file:"):
            mapped["resolved"] = version
        out[prefix + name] = mapped
        _flatten_v1(entry.get("dependencies") or {}, f"{prefix}{name}/node_modules/", out)


def _tar(root: Path, dest: Path) -> None:
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        if root.is_dir():
            for child in sorted(root.iterdir()):
                tar.add(str(child), arcname=child.name, recursive=True)


def _npm_error(output: str) -> str:
    lines = [x.strip() for x in output.splitlines() if x.startswith(("npm ERR!", "npm error"))]
    useful = [x for x in lines if "A complete log" not in x and "/_logs/" not in x]
    return " ".join(useful[:3])[:500] if useful else "npm ci failed"


@cache
def _configured_registry_hosts(npm: str) -> tuple[str, ...]:
    try:
        done = subprocess.run(
            [npm, "config", "get", "registry"],
            capture_output=True,
            timeout=20,
            check=False,
            env=host_environment(),
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    host = urlparse(done.stdout.decode().strip()).hostname
    return (host,) if host else ()


@cache
def _npm_version(npm: str) -> str:
    try:
        done = subprocess.run(
            [npm, "--version"], capture_output=True, timeout=20, check=False, env=host_environment()
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.decode().strip() or "unknown"

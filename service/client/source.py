"""The project on disk: the s.yaml, the files it reads, its code directories, its hooks.

The CLI parses the s.yaml with the server's own parser (service.projects.spec,
pure Python) so that what it sends is exactly what the parser needs: files are
read from disk only when the parser asks for them (env.yaml, extend bases,
templates, `${file()}` targets), and the environment variables only those
`${env()}` read. `.env` files are read for their values, which travel in `env`
(stored encrypted by the server), never as files (stored as they are).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.client.errors import ClientError

if TYPE_CHECKING:
    from service.projects.spec import Project

TEMPLATES = ("s.yaml", "s.yml")
# ${config()} values for a local parse; the server resolves them for the real account.
PLACEHOLDER_CONFIG = {
    "AccountID": "0000000000000000",
    "AccessKeyID": "placeholder-access-key-id",
    "Region": "cn-hangzhou",
    "AccessKeySecret": "placeholder",
    "SecurityToken": "placeholder",
}


class DiskFiles(Mapping[str, str]):
    """The project's files as the parser sees them: read on first use, relative to the root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.read: dict[str, str] = {}
        self.unreadable: dict[str, str] = {}

    def _load(self, key: object) -> str | None:
        if not isinstance(key, str):
            return None
        if key in self.read:
            return self.read[key]
        normal = posixpath.normpath(key)
        if normal.startswith(("/", "../")) or normal == "..":
            return None
        path = self.root / normal
        try:
            if not path.is_file():
                return None
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.unreadable[key] = str(exc)
            return None
        self.read[key] = text
        return text

    def __getitem__(self, key: str) -> str:
        text = self._load(key)
        if text is None:
            raise KeyError(key)
        return text

    def __contains__(self, key: object) -> bool:
        return self._load(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.read))

    def __len__(self) -> int:
        return len(self.read)


@dataclass
class LocalProject:
    root: Path  # the s.yaml's directory: hooks' `path` and `code` are relative to it
    main: str  # the s.yaml's file name
    name: str
    files: dict[str, str]  # what the server gets (no .env files)
    env: dict[str, str]  # the variables ${env()} read, with their values
    spec: Project
    code: dict[str, Path]  # `code` as the s.yaml writes it -> the directory or zip

    @property
    def order(self) -> list[str]:
        """The resources in deploy order."""
        return [name for layer in self.spec.layers for name in layer]


def find_template(template: Path | None) -> Path:
    if template is not None:
        if not template.is_file():
            raise ClientError(f"{template}: no such file (the project's s.yaml, given with -t)")
        return template
    for name in TEMPLATES:
        if Path(name).is_file():
            return Path(name)
    raise ClientError(
        f"no s.yaml in {Path.cwd()}: run fcplane in the project's directory or name the file "
        "with -t PATH"
    )


def load(template: Path | None, environment: str | None) -> LocalProject:
    """The project of ``template`` (default ./s.yaml), parsed as the server will parse it."""
    from service.projects.spec import SpecError, parse_project

    path = find_template(template).resolve()
    root, main = path.parent, path.name
    files = DiskFiles(root)
    try:
        spec = parse_project(
            files,
            main=main,
            env=dict(os.environ),
            config=PLACEHOLDER_CONFIG,
            environment=environment,
        )
    except SpecError as error:
        for name, reason in files.unreadable.items():
            raise ClientError(f"cannot read {root / name}: {reason}") from None
        raise ClientError(str(error)) from None
    if not spec.name:
        raise ClientError(f"{main}: `name` is missing: fcplane keeps the project under that name")
    sent = {k: v for k, v in files.read.items() if posixpath.basename(k) != ".env"}
    env = {k: v for k, v in spec.env_used.items() if v is not None}
    return LocalProject(root, main, spec.name, sent, env, spec, _code_dirs(root, spec))


def _code_dirs(root: Path, spec: Project) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for resource in spec.resources.values():
        code: Any = resource.props.get("code")
        if not isinstance(code, str):
            continue  # an OSS object or inline code: the server says it is not supported
        where = f"resources.{resource.name}.props.code"
        normal = posixpath.normpath(code.replace("\\", "/"))
        if normal.startswith(("/", "../")) or normal == "..":
            raise ClientError(
                f"{where}: {code!r} is outside the project's directory; fcplane sends code "
                "directories relative to the s.yaml"
            )
        path = root / normal
        if not path.exists():
            raise ClientError(f"{where}: {code!r} does not exist ({path})")
        if not path.is_dir() and path.suffix.lower() != ".zip":
            raise ClientError(f"{where}: {code!r} is neither a directory nor a .zip file")
        found[code] = path
    return found

"""requirements.txt, read as data: what may reach pip on the host, and what may not.

The host resolves and downloads with pip, so nothing in the user's file may make
pip execute code there or read the server's files: only named requirements
(PEP 508) reach it. Paths to files inside the source (vendored wheels, sdists,
project directories) are handled by the build itself; sdists and projects are
built in the sandbox. Everything else is refused or ignored, with a reason:

- ``-e``, direct URLs (``name @ https://...``, ``git+...``), absolute paths and
  paths leaving the package: refused;
- index options (``-i``, ``--extra-index-url``, ``-f``, ``--no-binary`` ...):
  ignored with a warning: builds use the server's configured indexes, wheels
  for the target platform, and sdists only where no wheel exists;
- ``-r`` / ``-c`` files inside the package are followed; ``--pre`` is honoured.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
from pip._vendor.packaging.utils import canonicalize_name

from .archive import Source
from .contract import BuildFailed

REQUIREMENTS_FILE = "requirements.txt"
LocalKind = Literal["wheel", "sdist", "project"]
_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")
_IGNORED_OPTIONS = {
    "-i": True,
    "--index-url": True,
    "--extra-index-url": True,
    "-f": True,
    "--find-links": True,
    "--trusted-host": True,
    "--no-index": False,
    "--prefer-binary": False,
    "--only-binary": True,
    "--no-binary": True,
    "--use-feature": True,
    "--require-hashes": False,
}  # option -> whether it takes a value
_COMMENT = re.compile(r"(^|\s+)#.*$")
_MAX_DEPTH = 5


@dataclass(frozen=True)
class LocalRef:
    """A requirement that is a file or directory of the source package."""

    path: str  # relative to the package root
    kind: LocalKind


@dataclass
class Requirements:
    named: list[str] = field(default_factory=list)  # canonical PEP 508 lines (+ --hash)
    constraints: list[str] = field(default_factory=list)
    local: list[LocalRef] = field(default_factory=list)
    pre: bool = False
    warnings: list[str] = field(default_factory=list)

    def normalized(self) -> str:
        """Stable text for cache keys: the same requirements in another order or
        spelling (``Six>=1`` vs ``six >= 1``) give the same text."""
        lines = sorted(set(self.named))
        lines += sorted(f"-c {c}" for c in set(self.constraints))
        lines += sorted(f"{ref.kind}:{ref.path}" for ref in self.local)
        if self.pre:
            lines.append("--pre")
        return "\n".join(lines) + "\n"

    @property
    def empty(self) -> bool:
        return not (self.named or self.local)


def parse(source: Source, path: str = REQUIREMENTS_FILE) -> Requirements:
    found = Requirements()
    _parse_file(source, path, found, depth=0, constraints=False)
    return found


def _fail(where: str, why: str) -> BuildFailed:
    return BuildFailed(f"{where}: {why}", code="invalid_requirements")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) with comments stripped and backslash continuations joined."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw)
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            lines.append((start, line))
    if pending.strip():
        lines.append((start, pending.strip()))
    return lines


def _parse_file(
    source: Source, path: str, found: Requirements, *, depth: int, constraints: bool
) -> None:
    text = source.read_text(path)
    if text is None:
        raise _fail(path, "not found in the source package")
    for number, line in _logical_lines(text):
        where = f"{path} line {number}"
        if line.startswith("-"):
            _option(source, path, where, line, found, depth=depth)
            continue
        parsed = _requirement(source, where, line)
        if isinstance(parsed, LocalRef):
            if constraints:
                raise _fail(where, "a constraints file may only name packages")
            found.local.append(parsed)
        else:
            (found.constraints if constraints else found.named).append(parsed)


def _option(
    source: Source, path: str, where: str, line: str, found: Requirements, *, depth: int
) -> None:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise _fail(where, str(exc)) from exc
    name, _, inline = words[0].partition("=")
    value = inline or (words[1] if len(words) > 1 else "")
    if name in ("-r", "--requirement", "-c", "--constraint"):
        if not value:
            raise _fail(where, f"{name} needs a file name")
        if depth >= _MAX_DEPTH:
            raise _fail(where, f"requirement files nest deeper than {_MAX_DEPTH}")
        included = _inside(where, (PurePosixPath(path).parent / value).as_posix())
        constraints = name in ("-c", "--constraint")
        _parse_file(source, included, found, depth=depth + 1, constraints=constraints)
    elif name == "--pre":
        found.pre = True
    elif name in ("-e", "--editable"):
        raise _fail(
            where,
            "editable requirements (-e) cannot go into a package; list the directory "
            "(e.g. ./mylib) without -e",
        )
    elif name in _IGNORED_OPTIONS:
        found.warnings.append(
            f"{where}: {name} ignored; builds use the server's configured package indexes "
            "(wheels for the runtime's platform, sdists only where no wheel exists)"
        )
    else:
        raise _fail(where, f"option {name} is not supported in a build")


def _requirement(source: Source, where: str, line: str) -> str | LocalRef:
    spec, hashes = _split_hashes(where, line)
    if "://" in spec or spec.startswith(("file:", "git+", "hg+", "svn+", "bzr+")):
        raise _fail(
            where,
            "URLs are not supported in a build; name the package (it comes from the "
            "configured indexes) or put the file in the package and list its path",
        )
    if _looks_like_path(spec):
        if hashes:
            raise _fail(where, "--hash is only supported on named requirements")
        return _local(source, where, spec)
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        raise _fail(where, f"not a valid requirement: {exc}") from exc
    if requirement.url:
        raise _fail(where, "direct references (name @ url) are not supported in a build")
    return " ".join([_canonical(requirement), *hashes])


def _canonical(requirement: Requirement) -> str:
    """One spelling per requirement: ``Six >= 1.16`` and ``six>=1.16`` are the same line."""
    text: str = canonicalize_name(requirement.name)
    if requirement.extras:
        text += "[" + ",".join(sorted(requirement.extras)) + "]"
    text += str(requirement.specifier)
    if requirement.marker is not None:
        text += f"; {requirement.marker}"
    return text


def _split_hashes(where: str, line: str) -> tuple[str, list[str]]:
    """The requirement and its ``--hash`` options; any other per-line option is refused."""
    spec, sep, rest = line.partition(" --")
    if not sep:
        return line.strip(), []
    hashes = []
    try:
        words = shlex.split("--" + rest)
    except ValueError as exc:
        raise _fail(where, str(exc)) from exc
    index = 0
    while index < len(words):
        word = words[index]
        if word.startswith("--hash="):
            hashes.append(word)
        elif word == "--hash" and index + 1 < len(words):
            index += 1
            hashes.append(f"--hash={words[index]}")
        else:
            raise _fail(where, f"option {word.split('=', 1)[0]} is not supported in a build")
        index += 1
    for value in hashes:
        if not re.fullmatch(r"--hash=(sha256|sha384|sha512):[0-9a-fA-F]+", value):
            raise _fail(where, f"malformed {value}")
    return spec.strip(), hashes


def _looks_like_path(spec: str) -> bool:
    head = spec.split(";", 1)[0].strip()
    return (
        head.startswith((".", "/", "~"))
        or "/" in head.split("[", 1)[0]
        or head.endswith((".whl", *_SDIST_SUFFIXES))
    )


def _inside(where: str, path: str) -> str:
    if path.startswith(("/", "~")):
        raise _fail(where, f"{path}: absolute paths are not supported; use a path in the package")
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if not parts:
                raise _fail(where, f"{path} is outside the package")
            parts.pop()
        elif part != ".":
            parts.append(part)
    if not parts:
        raise _fail(where, f"{path} is the package itself; list the directory of a project")
    return "/".join(parts)


def _local(source: Source, where: str, spec: str) -> LocalRef:
    head = spec.split(";", 1)[0].strip()
    if "[" in head and head.endswith("]"):
        head = head[: head.index("[")]
    path = _inside(where, head)
    if path in source:
        if path.endswith(".whl"):
            return LocalRef(path, "wheel")
        if path.endswith(_SDIST_SUFFIXES):
            return LocalRef(path, "sdist")
        raise _fail(where, f"{path} is neither a wheel nor a source distribution")
    if source.is_dir(path):
        if f"{path}/setup.py" in source or f"{path}/pyproject.toml" in source:
            return LocalRef(path, "project")
        raise _fail(where, f"{path} has neither setup.py nor pyproject.toml")
    raise _fail(where, f"{path} is not in the source package")

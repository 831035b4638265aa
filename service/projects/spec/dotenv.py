"""``.env`` files among the project's files, as upstream loads them before parsing.

parse-spec (``doYamlinit``/``doExtend``) runs dotenv + dotenv-expand on
``.env`` in an extend base's directory, in each resource's ``props.code``
directory and in the s.yaml directory. dotenv never overrides a variable that
is already set, so the caller's environment wins, then the first file loaded.
Only files the caller submitted are read.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

from service.projects.spec.functions import directory_of, join_path
from service.projects.spec.loader import MarkedMap

_LINE = re.compile(r"^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*?)\s*$")
_REFERENCE = re.compile(r"(\\?)\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=value`` lines: quotes stripped, ``\\n`` in double quotes, `` #`` comments."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        key, value = match.groups()
        closing = value.find(value[:1], 1) if value[:1] in ("'", '"', "`") else -1
        if closing > 0:  # a quoted value; anything after the closing quote is a comment
            quote, value = value[0], value[1:closing]
            if quote == '"':
                value = value.replace("\\n", "\n").replace("\\r", "\r")
        else:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _expand(value: str, known: Mapping[str, str]) -> str:
    """dotenv-expand: ``$X``/``${X}`` from what is known so far; ``\\$`` stays literal."""

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.groups()
        if escaped:
            return match.group(0)[1:]
        return known.get(name, "")

    return _REFERENCE.sub(replace, value)


def dotenv_directories(document: MarkedMap, main: str, base: str | None) -> list[str]:
    """Where upstream looks for ``.env``, in the order it loads them."""
    found: list[str] = []
    if base is not None:
        found.append(directory_of(base))
    resources = document.get("resources")
    if isinstance(resources, MarkedMap):
        for declaration in resources.values():
            props = declaration.get("props") if isinstance(declaration, MarkedMap) else None
            code = props.get("code") if isinstance(props, MarkedMap) else None
            if isinstance(code, str) and code and "${" not in code:
                found.append(join_path(main, code))
    found.append(directory_of(main))
    return list(dict.fromkeys(found))


def with_dotenv(
    env: Mapping[str, str], files: Mapping[str, str], directories: list[str]
) -> dict[str, str]:
    """The caller's environment plus what ``.env`` files add (never overriding)."""
    merged = dict(env)
    for directory in directories:
        path = posixpath.normpath(posixpath.join(directory, ".env"))
        if path not in files:
            continue
        for key, value in parse_dotenv(files[path]).items():
            if key not in merged:
                merged[key] = _expand(value, merged)
    return merged

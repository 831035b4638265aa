"""The functions a ``${}`` may call: env, file, json, yaml, str, path, config, regex.

Each reads only what the caller handed to parse_project — the environment
mapping, the account's config values, the submitted files — never the
process environment or the disk. When an argument is only known after
deployment, the pure functions (json, yaml, str) wait with it; the others
cannot, because what they read must be settled while parsing.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any

from service.projects.spec.errors import ExpressionProblem, SpecError
from service.projects.spec.expressions import Call, Literal, Node
from service.projects.spec.jsvalues import to_text
from service.projects.spec.limits import MAX_YAML_DEPTH
from service.projects.spec.loader import load_yaml, plain
from service.projects.spec.pending import Pending, PendingRef, Unknown

FUNCTIONS = ("env", "file", "json", "yaml", "str", "path", "config", "regex")
_PURE = ("json", "yaml", "str")


def reduced(value: Any) -> Node:
    """``value`` as a node of a pending expression."""
    if isinstance(value, Unknown):
        return value.node
    if isinstance(value, Pending):
        return PendingRef(value)
    return Literal(value)


def directory_of(file: str) -> str:
    return posixpath.dirname(file) or "."


def join_path(origin: str, path: str) -> str:
    """``path`` as written in ``origin``, relative to the project's root, normalised."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(origin), path))


class Builtins:
    """The functions, bound to one parse's inputs and records."""

    def __init__(
        self,
        *,
        files: Mapping[str, str],
        env: Mapping[str, str],
        config: Mapping[str, str],
        env_used: dict[str, str | None],
        warn: Callable[[str], None],
    ) -> None:
        self.files = files
        self.env = env
        self.config = config
        self.env_used = env_used
        self.warn = warn
        # The same file is often parsed by many tokens: `${json(file('cfg.json')).x}`.
        self._parsed: dict[tuple[str, str], Any] = {}

    def call(self, name: str, args: list[Any], origin: str, command: str | None = None) -> Any:
        if name not in FUNCTIONS:
            raise ExpressionProblem(f"unknown function '{name}'")
        if any(isinstance(a, Unknown) for a in args):
            if name in _PURE:
                return Unknown(Call(name, tuple(reduced(a) for a in args)))
            if name != "env" or isinstance(args[0], Unknown):
                raise ExpressionProblem(
                    f"{name}() cannot take a value that is only known after deployment"
                )
        if not args:
            raise ExpressionProblem(f"{name}() needs an argument")
        handler: Callable[[list[Any], str, str | None], Any] = getattr(self, f"_{name}")
        return handler(args, origin, command)

    def _env(self, args: list[Any], origin: str, command: str | None) -> Any:
        name = args[0]
        if not isinstance(name, str):
            raise ExpressionProblem("env() takes the variable's name as a string")
        value = self.env.get(name)
        if value:  # upstream: an empty value counts as missing
            self.env_used[name] = value
            return value
        self.env_used[name] = None
        if len(args) > 1:
            return args[1]
        raise ExpressionProblem(f"env('{name}') not found (not set and no default)")

    def _file(self, args: list[Any], origin: str, command: str | None) -> Any:
        path = _text_argument("file", args[0])
        target = join_path(origin, path)
        if target not in self.files:
            raise ExpressionProblem(f"file '{path}' not found (looked for '{target}')")
        return self.files[target]

    def _json(self, args: list[Any], origin: str, command: str | None) -> Any:
        text = _text_argument("json", args[0])
        if ("json", text) not in self._parsed:
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError) as error:
                reason = f"json() could not parse its argument: {error}"
                raise ExpressionProblem(reason) from None
            if _nesting(parsed) > MAX_YAML_DEPTH:
                raise ExpressionProblem(f"json() result nested deeper than {MAX_YAML_DEPTH}")
            self._parsed["json", text] = parsed
        return self._parsed["json", text]

    def _yaml(self, args: list[Any], origin: str, command: str | None) -> Any:
        text = _text_argument("yaml", args[0])
        if ("yaml", text) in self._parsed:
            return self._parsed["yaml", text]
        try:
            self._parsed["yaml", text] = plain(load_yaml(text, "yaml()"))
            return self._parsed["yaml", text]
        except SpecError as error:
            where = f"line {error.line}: " if error.line else ""
            reason = f"yaml() could not parse its argument: {where}{error.reason}"
            raise ExpressionProblem(reason) from None

    def _str(self, args: list[Any], origin: str, command: str | None) -> Any:
        return to_text(args[0])

    def _path(self, args: list[Any], origin: str, command: str | None) -> Any:
        path = _text_argument("path", args[0])
        if not path:
            raise ExpressionProblem("path() of an empty string")
        target = join_path(origin, path)
        known = target == "." or any(f == target or f.startswith(target + "/") for f in self.files)
        if not known:
            # Upstream checks the disk; fcplane has only the submitted files.
            self.warn(f"path('{path}') is '{target}', which is not among the project's files")
        return target

    def _config(self, args: list[Any], origin: str, command: str | None) -> Any:
        key = _text_argument("config", args[0])
        if key not in self.config:
            raise ExpressionProblem(f"config('{key}') not found")
        return self.config[key]

    def _regex(self, args: list[Any], origin: str, command: str | None) -> Any:
        pattern = _text_argument("regex", args[0])
        if command is None:
            raise ExpressionProblem("regex() tests the command: it belongs in action and flow keys")
        try:
            return re.search(pattern, command) is not None
        except re.error as error:
            raise ExpressionProblem(f"invalid regular expression: {error}") from None


def _text_argument(function: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ExpressionProblem(f"{function}() takes a string, not {to_text(value)!r}")
    return value


def _nesting(value: Any) -> int:
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest

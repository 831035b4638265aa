"""YAML text to plain Python values that remember where they were written.

Serverless Devs reads s.yaml with js-yaml 4, whose default schema is YAML 1.2's
core schema: ``yes``/``on`` and ``12:30`` stay strings, unlike PyYAML's YAML 1.1
defaults. The composer here resolves plain scalars the js-yaml way, and keeps
every string's position so an error inside a ``${...}`` can name its column.
Work is bounded (see limits.py): nodes are counted after alias expansion and
nesting is capped, so an alias bomb or a deep list fails fast.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from service.projects.spec.errors import Mark, SpecError
from service.projects.spec.limits import MAX_FILE_CHARS, MAX_YAML_DEPTH, MAX_YAML_NODES

_TAG = "tag:yaml.org,2002:"


class MarkedStr(str):
    """A string scalar with its place in the file.

    ``raw`` is the scalar's source text (quotes and escapes included), which is
    how the n-th ``${`` of the value is found on its exact line and column.
    """

    file: str
    line: int
    column: int
    raw: str

    def __new__(cls, value: str, file: str, line: int, column: int, raw: str) -> MarkedStr:
        made = super().__new__(cls, value)
        made.file, made.line, made.column, made.raw = file, line, column, raw
        return made

    @property
    def mark(self) -> Mark:
        return Mark(self.file, self.line, self.column)

    def mark_of_occurrence(self, n: int) -> Mark:
        """Where the n-th ``${`` (0-based) of the value was written."""
        at = -1
        for _ in range(n + 1):
            at = self.raw.find("${", at + 1)
            if at < 0:
                return self.mark
        newline = self.raw.rfind("\n", 0, at)
        if newline < 0:
            return Mark(self.file, self.line, self.column + at)
        return Mark(self.file, self.line + self.raw.count("\n", 0, at), at - newline)


class MarkedMap(dict[str, Any]):
    """A mapping as written; its keys are MarkedStr (except those merges add)."""

    mark: Mark

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark

    def marked_items(self) -> list[tuple[MarkedStr, Any]]:
        """The entries with keys that know where they were written (else: the map's place)."""
        return [(self.marked_key(k), v) for k, v in self.items()]

    def marked_key(self, key: str) -> MarkedStr:
        if isinstance(key, MarkedStr):
            return key
        return MarkedStr(key, self.mark.file, self.mark.line or 0, self.mark.column or 0, "")


class MarkedList(list[Any]):
    mark: Mark

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark


def is_raw(value: Any) -> bool:
    """Still as written (may hold ``${...}``), as opposed to already resolved."""
    return isinstance(value, MarkedStr | MarkedMap | MarkedList)


def plain(value: Any) -> Any:
    """The same data without positions: what a consumer of resolved values sees."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, MarkedStr):
        return str(value)
    return value


class _CoreSchemaResolver(BaseResolver):
    pass


for _tag, _pattern, _first in (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        "float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("merge", r"<<", "<"),
):
    _CoreSchemaResolver.add_implicit_resolver(
        _TAG + _tag, re.compile(rf"^(?:{_pattern})$"), list(_first)
    )


class _BoundedComposer(Reader, Scanner, Parser, Composer, _CoreSchemaResolver):
    def __init__(self, text: str, file: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreSchemaResolver.__init__(self)
        self.file = file
        self.depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # PyYAML composes recursively; refuse depth before Python's stack does.
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                start = self.get_mark()
                raise SpecError(
                    f"nesting deeper than {MAX_YAML_DEPTH} levels",
                    file=self.file,
                    line=start.line + 1,
                    column=start.column + 1,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Converter:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.count = 0

    def mark(self, node: Node) -> Mark:
        return Mark(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def value(self, node: Node, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_YAML_NODES:
            raise SpecError.at(
                self.mark(node),
                f"more than {MAX_YAML_NODES} values once aliases are expanded (an alias bomb?)",
            )
        if depth > MAX_YAML_DEPTH:
            raise SpecError.at(
                self.mark(node), f"nesting deeper than {MAX_YAML_DEPTH} levels (recursive alias?)"
            )
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            items = MarkedList(self.mark(node))
            items.extend(self.value(child, depth + 1) for child in node.value)
            return items
        if isinstance(node, MappingNode):
            return self.mapping(node, depth)
        raise SpecError.at(self.mark(node), f"unsupported YAML node {node.tag}")

    def mapping(self, node: MappingNode, depth: int) -> MarkedMap:
        result = MarkedMap(self.mark(node))
        explicit: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                # `<<: *base` — keys already given (or merged earlier) win.
                for source in self.merge_sources(value_node, depth):
                    for key, value in source.items():
                        if key not in result:
                            result[key] = value
                continue
            key = self.key(key_node)
            if key in explicit:
                raise SpecError.at(key.mark, f"duplicated mapping key '{key}'")
            explicit.add(key)
            result[key] = self.value(value_node, depth + 1)
        return result

    def merge_sources(self, node: Node, depth: int) -> list[MarkedMap]:
        sources = [node] if isinstance(node, MappingNode) else node.value
        if not isinstance(node, MappingNode | SequenceNode) or not all(
            isinstance(s, MappingNode) for s in sources
        ):
            raise SpecError.at(self.mark(node), "a merge key (<<) takes a mapping or mappings")
        return [self.mapping(s, depth + 1) for s in sources]

    def key(self, node: Node) -> MarkedStr:
        if not isinstance(node, ScalarNode):
            raise SpecError.at(self.mark(node), "mapping keys must be scalars")
        value = self.scalar(node)
        if not isinstance(value, str):  # JS object keys are strings: 1 -> "1", true -> "true"
            value = key_text(value)
        return MarkedStr(value, self.file, *self.position(node))

    def position(self, node: Node) -> tuple[int, int, str]:
        start, end = node.start_mark, node.end_mark
        return start.line + 1, start.column + 1, self.text[start.index : end.index]

    def scalar(self, node: ScalarNode) -> Any:
        kind = node.tag.removeprefix(_TAG)
        text: str = node.value
        if kind in ("str", "timestamp", "binary"):
            return MarkedStr(text, self.file, *self.position(node))
        if kind == "null":
            return None
        if kind == "bool":
            return text.lower() == "true"
        try:
            if kind == "int":
                return int(text, 0) if text.lstrip("+-")[:2] in ("0x", "0o") else int(text)
            if kind == "float":
                return _float(text)
        except ValueError:
            raise SpecError.at(self.mark(node), f"'{text}' is not a valid {kind}") from None
        raise SpecError.at(self.mark(node), f"unsupported YAML tag {node.tag}")


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


def key_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def load_yaml(text: str, file: str) -> Any:
    """The one document in ``text``: MarkedMap / MarkedList / MarkedStr / scalars, None if empty."""
    if len(text) > MAX_FILE_CHARS:
        raise SpecError(f"larger than {MAX_FILE_CHARS} characters", file=file)
    composer = _BoundedComposer(text, file)
    try:
        node = composer.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = " ".join(p for p in (error.context, error.problem) if p) or "invalid YAML"
        if mark is None:
            raise SpecError(reason, file=file) from None
        raise SpecError(reason, file=file, line=mark.line + 1, column=mark.column + 1) from None
    except yaml.YAMLError as error:
        raise SpecError(f"invalid YAML: {error}", file=file) from None
    finally:
        composer.dispose()
    if node is None:
        return None
    return _Converter(file, text).value(node, 0)

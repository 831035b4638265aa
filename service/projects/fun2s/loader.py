"""Reading a template: safe, bounded, and with Funcraft's (js-yaml's) idea of YAML.

PyYAML's SafeLoader is YAML 1.1: ``yes``/``on`` become booleans and ``2018-04-03``
a date, where Funcraft (js-yaml, core schema) kept both as strings. Environment
values such as ``DEBUG: on`` must survive the trip, so this loader resolves only
``true``/``false`` as booleans and leaves timestamps as text.

ROS short-form intrinsics (``!Ref``, ``!GetAtt``, ``!Sub`` ...) load as
:class:`Intrinsic` values instead of failing; the converter resolves or reports them.

Aliases are shared nodes after composition: the tree is walked with every alias
expanded and the walk stops at ``MAX_NODES`` visits, so an alias bomb or a
recursive alias costs a bounded amount of work and ends in a TemplateError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from service.projects.fun2s.schemas import TemplateError

MAX_CHARS = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 64

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Intrinsic:
    """A ROS intrinsic function written with a local tag, e.g. ``!Ref Name``."""

    tag: str
    value: Any

    def __str__(self) -> str:
        return f"{self.tag} {self.value!r}"


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_intrinsic(loader: _Loader, suffix: str, node: Node) -> Intrinsic:
    value: Any
    if isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return Intrinsic("!" + suffix, value)


_Loader.add_multi_constructor("!", _construct_intrinsic)


@dataclass(frozen=True)
class Loaded:
    data: dict[str, Any]
    lines: dict[str, int]  # line of each top-level key, for errors about them


def load_template(text: str, filename: str) -> Loaded:
    """The template as plain data; TemplateError when it is not a readable YAML mapping."""
    if len(text) > MAX_CHARS:
        raise TemplateError(f"larger than {MAX_CHARS} characters", file=filename)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise TemplateError("empty document", file=filename)
        _check_shape(node, filename)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise TemplateError(
            f"not valid YAML: {exc.problem or exc}", file=filename, line=line
        ) from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"not valid YAML: {exc}", file=filename) from None
    except RecursionError:
        raise TemplateError("nested too deeply", file=filename) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise TemplateError(
            "not a mapping: a Funcraft template maps ROSTemplateFormatVersion, Transform and "
            "Resources",
            file=filename,
            line=node.start_mark.line + 1,
        )
    assert isinstance(node, MappingNode)
    lines = {
        str(key.value): key.start_mark.line + 1
        for key, _ in node.value
        if isinstance(key, ScalarNode)
    }
    return Loaded(data, lines)


def _check_shape(root: Node, filename: str) -> None:
    """Refuse oversized, over-deep or duplicate-keyed documents before constructing them."""
    stack: list[tuple[Node, int]] = [(root, 1)]
    visits = 0
    while stack:
        node, depth = stack.pop()
        visits += 1
        line = node.start_mark.line + 1
        if visits > MAX_NODES:
            raise TemplateError(
                f"more than {MAX_NODES} nodes once aliases are expanded", file=filename, line=line
            )
        if depth > MAX_DEPTH:
            raise TemplateError(f"nested deeper than {MAX_DEPTH} levels", file=filename, line=line)
        if isinstance(node, SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, MappingNode):
            _refuse_duplicate_keys(node, filename)
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))


def _refuse_duplicate_keys(node: MappingNode, filename: str) -> None:
    # Funcraft's js-yaml refuses duplicate keys; PyYAML would silently keep the last one.
    seen: set[tuple[str, str]] = set()
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == _MERGE:
            continue
        ident = (key.tag, key.value)
        if ident in seen:
            raise TemplateError(
                f"duplicate key {key.value!r}", file=filename, line=key.start_mark.line + 1
            )
        seen.add(ident)

"""Deploy order: output references are the only edges; ``flow`` may order explicitly.

As parse-spec ``order.ts``: resource B comes before A when A's props read
``${resources.B.output...}`` — props references, vars and actions create no
edge. Without edges, YAML order; with edges, repeatedly the first resource (in
YAML order) whose dependencies have run. Upstream lets a cycle through,
sorted last, to fail at run time; here it is an error naming the chain. A
``flow`` for the command replaces the order (each inner list runs in
parallel) and must not run a resource before one whose output it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.projects.spec.errors import Mark, SpecError
from service.projects.spec.expressions import has_tokens
from service.projects.spec.jsvalues import truthy
from service.projects.spec.loader import MarkedMap, MarkedStr
from service.projects.spec.pending import Deferred, Pending, referenced_outputs
from service.projects.spec.resolve import KeyScope, Resolver


@dataclass(frozen=True)
class Edge:
    """``resource`` reads ``dependency``'s output, at ``mark`` in ``expression``."""

    resource: str
    dependency: str
    mark: Mark
    expression: str


def output_edges(resource: str, props: Any) -> list[Edge]:
    """One edge per dependency, at its first reference, in the order props are written."""
    edges: dict[str, Edge] = {}
    for part in _deferred_parts(props):
        for dependency in referenced_outputs(part.node):
            if dependency not in edges:
                mark = Mark(part.file, part.line, part.column)
                edges[dependency] = Edge(resource, dependency, mark, part.expression)
    return list(edges.values())


def _deferred_parts(value: Any) -> list[Deferred]:
    if isinstance(value, Pending):
        return [p for p in value.parts if isinstance(p, Deferred)]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _deferred_parts(v)]
    if isinstance(value, list):
        return [p for v in value for p in _deferred_parts(v)]
    return []


def dependency_order(names: list[str], edges: dict[str, list[Edge]]) -> list[str]:
    """Upstream's stable order; a cycle is a SpecError at the reference that starts it."""
    placed: list[str] = []
    done: set[str] = set()
    remaining = list(names)
    while remaining:
        ready = next(
            (n for n in remaining if all(e.dependency in done for e in edges.get(n, []))), None
        )
        if ready is None:
            raise _cycle(remaining, edges)
        placed.append(ready)
        done.add(ready)
        remaining.remove(ready)
    return placed


def _cycle(remaining: list[str], edges: dict[str, list[Edge]]) -> SpecError:
    # Every remaining resource waits on another remaining one, so walking those
    # edges from any of them must come back to a resource already walked.
    waiting = set(remaining)
    walked: list[Edge] = []
    seen: dict[str, int] = {}
    current = remaining[0]
    while current not in seen:
        seen[current] = len(walked)
        edge = next(e for e in edges[current] if e.dependency in waiting)
        walked.append(edge)
        current = edge.dependency
    loop = walked[seen[current] :]
    chain = " -> ".join([loop[0].resource, *(e.dependency for e in loop)])
    return SpecError.at(loop[0].mark, f"cycle: {chain}", loop[0].expression)


def flow_layers(
    flow: MarkedMap | None,
    names: list[str],
    edges: dict[str, list[Edge]],
    resolver: Resolver,
    command: str,
    warn: Callable[[str], None],
) -> list[list[str]] | None:
    """The layers of the first flow entry matching ``command``, which must be valid.

    Upstream checks a flow only when its command runs; entries for other
    commands are checked too, but what would fail there is a warning here.
    """
    if flow is None:
        return None
    chosen: list[list[str]] | None = None
    scope = resolver.global_scope()
    for key, raw in flow.marked_items():
        label = f"flow.{key}"
        if has_tokens(key):
            matches = truthy(resolver.compile(key, KeyScope(resolver, command), label))
        else:
            matches = key == command
        if not matches or chosen is not None:
            try:
                _layers(resolver.resolve(raw, scope, label), key, names, edges, warn=None)
            except SpecError as error:
                warn(f"flow '{key}' would fail in Serverless Devs: {error.reason}")
            continue
        chosen = _layers(resolver.resolve(raw, scope, label), key, names, edges, warn)
        listed = {n for layer in chosen for n in layer}
        for name in names:
            if name not in listed:
                warn(f"flow '{key}' does not list resource '{name}': it is not deployed")
    return chosen


def _layers(
    value: Any,
    key: MarkedStr,
    names: list[str],
    edges: dict[str, list[Edge]],
    warn: Callable[[str], None] | None,
) -> list[list[str]]:
    if not isinstance(value, list) or not all(isinstance(group, list) for group in value):
        raise SpecError.at(key.mark, f"flow {key} data format is invalid.")
    layers: list[list[str]] = []
    seen: set[str] = set()
    for group in value:
        layer: list[str] = []
        for name in group:
            if not isinstance(name, str) or name not in names:
                raise SpecError.at(
                    key.mark, f"Resource {name} is not found. Please check the content of flow."
                )
            if name not in seen:
                seen.add(name)
                layer.append(name)
        if layer:
            layers.append(layer)
    _check_against_edges(layers, key, edges, warn)
    return layers


def _check_against_edges(
    layers: list[list[str]],
    key: MarkedStr,
    edges: dict[str, list[Edge]],
    warn: Callable[[str], None] | None,
) -> None:
    position = {name: i for i, layer in enumerate(layers) for name in layer}
    for resource, needs in edges.items():
        if resource not in position:
            continue
        for edge in needs:
            if edge.dependency not in position:
                if warn is not None:
                    warn(
                        f"flow '{key}' runs '{resource}' without '{edge.dependency}', "
                        "whose output it reads"
                    )
            elif position[edge.dependency] >= position[resource]:
                raise SpecError.at(
                    key.mark,
                    f"flow is invalid, {edge.dependency} must be executed before {resource}",
                )

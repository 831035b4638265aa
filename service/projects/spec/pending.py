"""Values that only exist once other resources have deployed.

``${resources.api.output.url}`` cannot be known while parsing; upstream keeps
it verbatim and compiles it again when the resource runs. Here it becomes a
Pending marker in the props: the string as written, its literal parts, and
for each token an expression reduced to what deployment still has to supply
(everything else — env, vars, other props — already folded to constants).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from service.projects.spec.expressions import Node


@dataclass(frozen=True)
class OutputRef(Node):
    """The output object of a resource (``resources.<name>.output``)."""

    resource: str


@dataclass(frozen=True)
class PendingRef(Node):
    """A value that is itself pending, reached through a props reference."""

    pending: Pending


@dataclass(frozen=True)
class Unknown:
    """During evaluation: a value that depends on outputs, as the expression that computes it."""

    node: Node


@dataclass(frozen=True)
class Deferred:
    """One ``${...}`` of a Pending string, waiting for outputs."""

    expression: str  # as written, e.g. "${resources.api.output.url}"
    node: Node
    file: str
    line: int | None
    column: int | None


@dataclass(frozen=True)
class Pending:
    """A prop value that needs the outputs of ``resources`` (see resolve_outputs).

    ``parts`` alternate literal text and Deferred tokens; a value written as one
    token keeps its type when resolved (an output object stays an object).
    """

    text: str  # the string as written
    parts: tuple[str | Deferred, ...]
    file: str
    line: int | None
    column: int | None

    @property
    def single(self) -> bool:
        return len(self.parts) == 1 and isinstance(self.parts[0], Deferred)

    @property
    def resources(self) -> frozenset[str]:
        found: list[str] = []
        for part in self.parts:
            if isinstance(part, Deferred):
                found.extend(referenced_outputs(part.node))
        return frozenset(found)

    def as_written(self) -> str:
        """The string with its pending tokens left verbatim, as upstream does while parsing."""
        return "".join(p if isinstance(p, str) else p.expression for p in self.parts)


def referenced_outputs(node: Node) -> list[str]:
    """The resources whose outputs ``node`` reads, in the order it reads them."""
    if isinstance(node, OutputRef):
        return [node.resource]
    if isinstance(node, PendingRef):
        found: list[str] = []
        for part in node.pending.parts:
            if isinstance(part, Deferred):
                found.extend(referenced_outputs(part.node))
        return found
    found = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, Node):
                found.extend(referenced_outputs(child))
    return found

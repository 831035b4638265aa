"""What a parsed project is: resources in deploy order, their resolved props, their hooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.projects.spec.pending import Pending


@dataclass(frozen=True)
class Action:
    """One hook item, e.g. ``pre-deploy: [{run: npm install, path: ./code}]``.

    ``command`` is the key's command part as Serverless Devs compares it: the
    literal ``deploy`` of ``pre-deploy``, or for a key with ``${regex(...)}`` the
    result of compiling it for ``deploy`` — ``"true"`` when the regex matches
    deploy (``pre-${regex('.')}`` runs for every command), else ``"false"``.
    Output references inside values stay as written (``${resources.a.output.x}``):
    upstream compiles actions again when they run.
    """

    hook: str  # pre | success | fail | complete (post- is read as complete-)
    command: str
    kind: str  # run | component | plugin
    value: str
    path: str | None  # run: the working directory as written
    args: Any  # plugin: its args
    allow_failure: Any  # as written; a resource's own allow_failure takes precedence
    resource: str | None  # None: a global (project-level) action
    file: str
    line: int


def _has_pending(value: Any) -> bool:
    if isinstance(value, Pending):
        return True
    if isinstance(value, dict):
        return any(_has_pending(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_pending(v) for v in value)
    return False


@dataclass
class Resource:
    name: str
    component: str
    props: dict[str, Any]  # resolved; output references are Pending markers
    actions: list[Action]
    depends_on: set[str]  # resources whose outputs these props read
    line: int

    @property
    def pending(self) -> bool:
        """Whether the props still wait for other resources' outputs (see resolve_outputs)."""
        return _has_pending(self.props)


@dataclass
class Project:
    name: str | None
    edition: str
    access: str | None
    vars: dict[str, Any]
    resources: dict[str, Resource]  # declaration order
    layers: list[list[str]]  # deploy order; names in one layer may run in parallel
    flow: bool
    actions: list[Action]
    warnings: list[str] = field(default_factory=list)
    env_used: dict[str, str | None] = field(default_factory=dict)

"""Hooks: ``actions: {pre-deploy: [{run: ...}, {component: ...}, {plugin: ...}]}``.

As parse-spec ``parseActions``/``matchAction``: the key is compiled (for a
``${regex()}``) against the command, then split on ``-`` and only its first two
parts count. Values are compiled like props — global actions see vars only,
resource actions also ``this`` and ``resources`` — except that output
references stay verbatim, since upstream compiles actions again when they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from service.projects.spec.errors import SpecError
from service.projects.spec.expressions import has_tokens
from service.projects.spec.jsvalues import to_text
from service.projects.spec.loader import MarkedList, MarkedMap, MarkedStr
from service.projects.spec.model import Action
from service.projects.spec.pending import Pending
from service.projects.spec.resolve import KeyScope, Resolver, Scope

HOOKS = ("pre", "success", "fail", "complete")
COMMAND = "deploy"  # the command keys are compiled for: fcplane parses to deploy
_KINDS = ("run", "plugin", "component")  # upstream checks them in this order
_UNSET = object()


def parse_actions(
    actions: Any,
    *,
    resolver: Resolver,
    scope: Scope,
    resource: str | None,
    owner: MarkedMap,
    warn: Callable[[str], None],
    allow_failure: Any = _UNSET,
) -> list[Action]:
    """The actions of one owner (the project or a resource), in the order written.

    ``allow_failure``: the resource's own, which upstream applies to each of its actions.
    """
    if actions is None:
        return []
    level = "global" if resource is None else "project"  # upstream's words
    if not isinstance(actions, MarkedMap):
        raise SpecError.at(owner.mark, f"{level} actions must be a mapping of hook to list")
    found: list[Action] = []
    for key, items in actions.marked_items():
        if not isinstance(items, MarkedList):
            raise SpecError.at(key.mark, f"{level} action {key} is invalid, it must be array")
        hook, command = _split_key(key, resolver, warn)
        for index, item in enumerate(items):
            label = f"actions.{key}[{index}]"
            action = _action(item, hook, command, resolver, scope, resource, label, key)
            if allow_failure is not _UNSET:
                action = replace(action, allow_failure=allow_failure)
            if action.kind == "component" and resource is None:
                warn(f"global action {key}: component actions only run at resource level")
            found.append(action)
    return found


def _split_key(key: MarkedStr, resolver: Resolver, warn: Callable[[str], None]) -> tuple[str, str]:
    text = str(key)
    if has_tokens(text):
        text = to_text(resolver.compile(key, KeyScope(resolver, COMMAND), f"actions.{key}"))
    parts = text.split("-")
    if len(parts) < 2 or not parts[1]:
        raise SpecError.at(key.mark, f"action key '{key}' must read <hook>-<command>")
    if len(parts) > 2:
        warn(f"action key '{key}': only '{parts[0]}-{parts[1]}' is used (split on '-')")
    hook = parts[0]
    if hook == "post":
        warn(f"action key '{key}': 'post-' hooks are renamed 'complete-'")
        hook = "complete"
    if hook not in HOOKS:
        raise SpecError.at(key.mark, f"unknown action hook '{hook}' (pre, success, fail, complete)")
    return hook, parts[1]


def _action(
    item: Any,
    hook: str,
    command: str,
    resolver: Resolver,
    scope: Scope,
    resource: str | None,
    label: str,
    key: MarkedStr,
) -> Action:
    if not isinstance(item, MarkedMap):
        raise SpecError.at(key.mark, f"{label}: an action is a mapping (run, plugin or component)")
    kind = next((k for k in _KINDS if k in item), None)
    if kind is None:
        raise SpecError.at(item.mark, f"{label}: an action needs run, plugin or component")
    resolved = _as_written(resolver.resolve(item, scope, label))
    path = resolved.get("path")
    line = item.mark.line or 0
    return Action(
        hook=hook,
        command=command,
        kind=kind,
        value=to_text(resolved.get(kind, "")),
        path=to_text(path) if kind == "run" and path is not None else None,
        args=resolved.get("args") if kind == "plugin" else None,
        allow_failure=resolved.get("allow_failure", False),
        resource=resource,
        file=item.mark.file,
        line=line,
    )


def _as_written(value: Any) -> Any:
    if isinstance(value, Pending):
        return value.as_written()
    if isinstance(value, dict):
        return {k: _as_written(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_written(v) for v in value]
    return value

"""Finishing a resource's props once the resources it reads from have deployed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.projects.spec.errors import ExpressionProblem, SpecError
from service.projects.spec.evaluate import evaluate, value_of
from service.projects.spec.functions import Builtins
from service.projects.spec.jsvalues import is_nothing, to_text
from service.projects.spec.model import Resource
from service.projects.spec.pending import Deferred, Pending, Unknown


class _OutputScope:
    """Pending expressions hold only constants, output references and pure functions."""

    def __init__(self, outputs: Mapping[str, Mapping[str, Any]]) -> None:
        self.outputs = outputs
        self.converted: dict[str, Any] = {}
        self.functions = Builtins(files={}, env={}, config={}, env_used={}, warn=lambda _: None)

    def lookup(self, name: str, origin: str) -> Any:
        raise ExpressionProblem(f"'{name}' is not defined")

    def call(self, function: str, args: list[Any], origin: str) -> Any:
        return self.functions.call(function, args, origin)

    def output(self, resource: str) -> Any:
        if resource not in self.converted:
            if resource not in self.outputs:
                raise ExpressionProblem(f"resource '{resource}' has no outputs (not deployed yet?)")
            self.converted[resource] = _data(self.outputs[resource])
        return self.converted[resource]


def _data(value: Any) -> Any:
    """Outputs as plain dicts and lists, whatever mapping types the caller holds."""
    if isinstance(value, Mapping):
        return {str(k): _data(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_data(v) for v in value]
    return value


def resolve_outputs(resource: Resource, outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``resource.props`` with every output reference filled in from ``outputs``.

    ``outputs[name]`` is what resource ``name`` returned when it deployed. A value
    written as a single ``${}`` keeps the output's type; inside longer text it
    becomes text. A path the output does not have is a SpecError at the reference.
    """
    scope = _OutputScope(outputs)
    finished = _finish(resource.props, scope)
    assert isinstance(finished, dict)
    return finished


def _finish(value: Any, scope: _OutputScope) -> Any:
    if isinstance(value, Pending):
        return _pending(value, scope)
    if isinstance(value, dict):
        items = ((k, _finish(v, scope)) for k, v in value.items())
        return {k: v for k, v in items if not is_nothing(v)}
    if isinstance(value, list):
        return [_finish(v, scope) for v in value]
    return value


def _pending(pending: Pending, scope: _OutputScope) -> Any:
    values = [p if isinstance(p, str) else _deferred(p, scope) for p in pending.parts]
    if pending.single:
        return values[0]
    try:
        return "".join(to_text(v) for v in values)
    except ExpressionProblem as problem:
        raise SpecError(
            problem.reason, file=pending.file, line=pending.line, column=pending.column
        ) from None


def _deferred(part: Deferred, scope: _OutputScope) -> Any:
    try:
        value = value_of(evaluate(part.node, scope, part.file))
        if isinstance(value, Unknown):  # cannot happen: the scope knows every output
            raise ExpressionProblem("still depends on an output")
        if is_nothing(value):
            raise ExpressionProblem("not found in the deployed outputs")
        return value
    except ExpressionProblem as problem:
        raise SpecError(
            problem.reason,
            file=part.file,
            line=part.line,
            column=part.column,
            expression=part.expression,
        ) from None

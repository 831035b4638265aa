"""Evaluating a parsed ``${}`` expression against a scope.

Evaluation is partial: a part that reads a deployment output evaluates to
Unknown, and whatever combines it (``.url``, ``json(...)``, ``a || b``) stays
Unknown too, carrying a reduced expression in which everything else is
already a constant. resolve_outputs later evaluates those reduced
expressions with the same code, in a scope that has the outputs.
"""

from __future__ import annotations

from typing import Any, Protocol

from service.projects.spec import jsvalues
from service.projects.spec.errors import ExpressionProblem
from service.projects.spec.expressions import (
    ArrayLiteral,
    Binary,
    Call,
    Conditional,
    Literal,
    Logical,
    Member,
    Name,
    Node,
    Unary,
)
from service.projects.spec.functions import reduced
from service.projects.spec.jsvalues import UNDEFINED, is_nothing, to_text, truthy
from service.projects.spec.pending import OutputRef, Pending, PendingRef, Unknown


class Handle:
    """A name whose value is produced on demand (``vars``, ``resources``, ``this``...).

    ``vars.region`` must not resolve all of ``vars`` first: that would turn a
    harmless self-reference elsewhere in vars into a cycle.
    """

    def member(self, key: str) -> Any:
        raise NotImplementedError

    def materialize(self) -> Any:
        raise NotImplementedError


class Namespace(Protocol):
    """What names and functions mean where an expression is evaluated."""

    def lookup(self, name: str, origin: str) -> Any: ...

    def call(self, function: str, args: list[Any], origin: str) -> Any: ...

    def output(self, resource: str) -> Any: ...


def value_of(value: Any) -> Any:
    return value.materialize() if isinstance(value, Handle) else value


def settled(value: Any) -> Any:
    """A Pending met inside a value is, to an expression, an Unknown."""
    return Unknown(PendingRef(value)) if isinstance(value, Pending) else value


def evaluate(node: Node, scope: Namespace, origin: str) -> Any:
    """The value of ``node``: plain data, UNDEFINED, a Handle or an Unknown.

    ``origin`` is the file the expression was written in (for path() and file()).
    """
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        return UNDEFINED if node.id == "undefined" else scope.lookup(node.id, origin)
    if isinstance(node, OutputRef):
        return scope.output(node.resource)
    if isinstance(node, PendingRef):
        return _pending(node.pending, scope, origin)
    if isinstance(node, Member):
        return _member(node, scope, origin)
    if isinstance(node, Call):
        args = [value_of(evaluate(a, scope, origin)) for a in node.args]
        return scope.call(node.function, args, origin)
    if isinstance(node, Unary):
        operand = value_of(evaluate(node.operand, scope, origin))
        if isinstance(operand, Unknown):
            return Unknown(Unary(node.op, operand.node))
        return jsvalues.unary(node.op, operand)
    if isinstance(node, Binary):
        left = value_of(evaluate(node.left, scope, origin))
        right = value_of(evaluate(node.right, scope, origin))
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return Unknown(Binary(node.op, reduced(left), reduced(right)))
        return jsvalues.binary(node.op, left, right)
    if isinstance(node, Logical):
        return _logical(node, scope, origin)
    if isinstance(node, Conditional):
        test = value_of(evaluate(node.test, scope, origin))
        if isinstance(test, Unknown):
            consequent = value_of(evaluate(node.consequent, scope, origin))
            alternate = value_of(evaluate(node.alternate, scope, origin))
            return Unknown(Conditional(test.node, reduced(consequent), reduced(alternate)))
        branch = node.consequent if truthy(test) else node.alternate
        return evaluate(branch, scope, origin)
    if isinstance(node, ArrayLiteral):
        items = [value_of(evaluate(i, scope, origin)) for i in node.items]
        if any(isinstance(i, Unknown) for i in items):
            return Unknown(ArrayLiteral(tuple(reduced(i) for i in items)))
        return items
    raise ExpressionProblem(f"unsupported expression {type(node).__name__}")


def _pending(pending: Pending, scope: Namespace, origin: str) -> Any:
    """A pending value met again: while parsing it stays Unknown; with outputs it resolves."""
    resolved: list[Any] = []
    for part in pending.parts:
        if isinstance(part, str):
            resolved.append(part)
            continue
        value = value_of(evaluate(part.node, scope, origin))
        if isinstance(value, Unknown):
            return Unknown(PendingRef(pending))
        if is_nothing(value):
            raise ExpressionProblem(f"{part.expression} not found")
        resolved.append(value)
    if pending.single:
        return resolved[0]
    return "".join(to_text(v) for v in resolved)


def _member(node: Member, scope: Namespace, origin: str) -> Any:
    target = evaluate(node.object, scope, origin)
    key = value_of(evaluate(node.key, scope, origin))
    if isinstance(target, Unknown) or isinstance(key, Unknown):
        return Unknown(Member(reduced(value_of(target)), reduced(key), node.optional))
    if isinstance(target, Handle):
        return target.member(to_text(key))
    return member_of(target, key, node.optional)


def member_of(target: Any, key: Any, optional: bool = False) -> Any:
    """``target[key]`` with JavaScript's answers: missing is UNDEFINED, ``.length`` works."""
    if is_nothing(target):
        if optional:
            return UNDEFINED
        raise ExpressionProblem(f"cannot read '{to_text(key)}' of {to_text(target)}")
    if isinstance(target, dict):
        return settled(target.get(to_text(key), UNDEFINED))
    if isinstance(target, list | str):
        if key == "length":
            return len(target)
        index = jsvalues.to_number(key)
        if isinstance(index, int) and 0 <= index < len(target):
            return settled(target[index])
    return UNDEFINED


def _logical(node: Logical, scope: Namespace, origin: str) -> Any:
    left = value_of(evaluate(node.left, scope, origin))
    if isinstance(left, Unknown):
        right = value_of(evaluate(node.right, scope, origin))
        return Unknown(Logical(node.op, left.node, reduced(right)))
    if node.op == "||":
        keep_left = truthy(left)
    elif node.op == "&&":
        keep_left = not truthy(left)
    else:  # ??
        keep_left = not is_nothing(left)
    return left if keep_left else evaluate(node.right, scope, origin)

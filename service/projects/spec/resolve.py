"""Resolving project values: strings with ``${}``, lazily, once each, cycles refused.

Upstream compiles resources in YAML order with two passes, so a reference to
a later resource sees raw text. Here every reference is followed on demand —
``${resources.b.props.x}`` resolves b's ``x`` wherever b is declared — and each
string is resolved once per scope (memoised). A string that is reached again
while it is being resolved is a cycle, reported with the chain that led there.
"""

from __future__ import annotations

from typing import Any, Protocol

from service.projects.spec.errors import ExpressionProblem, SpecError
from service.projects.spec.evaluate import Handle, evaluate, settled, value_of
from service.projects.spec.expressions import Node, Token, parse_expression, split_template
from service.projects.spec.functions import FUNCTIONS, Builtins, directory_of
from service.projects.spec.jsvalues import UNDEFINED, is_nothing, to_text
from service.projects.spec.limits import MAX_REFERENCE_DEPTH, MAX_STRING_CHARS
from service.projects.spec.loader import MarkedList, MarkedMap, MarkedStr
from service.projects.spec.pending import Deferred, OutputRef, Pending, PendingRef, Unknown


class TreeSource(Protocol):
    """Each resource's props as merged (template, env.yaml overlays), still unresolved."""

    names: list[str]

    def tree(self, name: str) -> MarkedMap: ...

    def before_overlays(self, name: str) -> MarkedMap: ...

    def component(self, name: str) -> str: ...


class Resolver:
    def __init__(self, builtins: Builtins, variables: MarkedMap) -> None:
        self.builtins = builtins
        self.variables = variables
        self.resources: TreeSource | None = None
        self.access: str | None = None
        self.project_name: str | None = None
        self._memo: dict[tuple[str, int], Any] = {}
        self._active: dict[tuple[str, int], int] = {}  # -> position in _chain
        self._chain: list[str] = []
        self._parsed: dict[str, Node] = {}

    @property
    def trees(self) -> TreeSource:
        assert self.resources is not None, "resources are attached before resolving"
        return self.resources

    # ------------------------------------------------------------ scopes

    def global_scope(self) -> Scope:
        return Scope(self, "global")

    def resource_scope(self, name: str) -> Scope:
        return Scope(self, "resource", resource=name)

    def environment_scope(self, name: str, entry: dict[str, Any]) -> Scope:
        return Scope(self, "env", resource=name, entry=entry)

    # ------------------------------------------------------------ resolving

    def resolve(self, value: Any, scope: Scope, label: str) -> Any:
        """A whole value resolved: plain data, with Pending markers where outputs are needed.

        Keys whose value is null or undefined are dropped, as upstream does.
        """
        if isinstance(value, MarkedStr):
            return self.compile(value, scope, label)
        if isinstance(value, MarkedMap):
            out: dict[str, Any] = {}
            for key, item in value.items():
                resolved = self.resolve(item, scope, f"{label}.{key}")
                if not is_nothing(resolved):
                    out[str(key)] = resolved
            return out
        if isinstance(value, MarkedList):
            return [self.resolve(item, scope, f"{label}[{i}]") for i, item in enumerate(value)]
        return value

    def lazy(self, value: Any, scope: Scope, label: str) -> Any:
        """What an expression sees when it reaches ``value``: containers stay unresolved."""
        if isinstance(value, MarkedStr):
            return settled(self.compile(value, scope, label))
        if isinstance(value, MarkedMap | MarkedList):
            return TreeHandle(self, value, scope, label)
        return settled(value)

    def compile(self, text: MarkedStr, scope: Scope, label: str) -> Any:
        key = (scope.key, id(text))
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            loop = [*self._chain[self._active[key] :], label]
            raise ExpressionProblem("cycle: " + " -> ".join(loop))
        if len(self._chain) >= MAX_REFERENCE_DEPTH:
            raise ExpressionProblem(f"references nested deeper than {MAX_REFERENCE_DEPTH}")
        self._active[key] = len(self._chain)
        self._chain.append(label)
        try:
            value = self._compile_text(text, scope, second_pass=True)
        finally:
            self._chain.pop()
            del self._active[key]
        self._memo[key] = value
        return value

    def _compile_text(self, text: MarkedStr, scope: Scope, *, second_pass: bool) -> Any:
        parts = split_template(text)
        if not any(isinstance(p, Token) for p in parts):
            return str(text)
        if len(parts) == 1 and isinstance(parts[0], Token):
            value = self._token(parts[0], text, scope)
            if isinstance(value, Unknown):
                return self._pending(text, [self._deferred(parts[0], text, value)])
        else:
            pieces: list[str | Deferred] = []
            for part in parts:
                if isinstance(part, str):
                    pieces.append(part)
                    continue
                found = self._token(part, text, scope)
                if isinstance(found, Unknown):
                    pieces.append(self._deferred(part, text, found))
                    continue
                if isinstance(found, dict):
                    at = text.mark_of_occurrence(part.occurrence)
                    self.builtins.warn(
                        f"{at.file}:{at.line}: {part.source} puts an object into text, "
                        "where it reads '[object Object]'"
                    )
                try:
                    pieces.append(to_text(found))
                except ExpressionProblem as problem:
                    mark = text.mark_of_occurrence(part.occurrence)
                    raise SpecError.at(mark, problem.reason, part.source) from None
            if any(isinstance(p, Deferred) for p in pieces):
                return self._pending(text, pieces)
            value = "".join(str(p) for p in pieces)
            if len(value) > MAX_STRING_CHARS:
                raise SpecError.at(
                    text.mark, f"resolves to more than {MAX_STRING_CHARS} characters"
                )
        if second_pass and isinstance(value, str) and "${" in value:
            # Upstream compiles a result that still holds `${` once more (file() contents,
            # env values); positions inside it are unknown, so errors point at the string.
            again = MarkedStr(value, text.file, text.line, text.column, "")
            return self._compile_text(again, scope, second_pass=False)
        return value

    def _token(self, token: Token, text: MarkedStr, scope: Scope) -> Any:
        try:
            node = self._parsed.get(token.inner)
            if node is None:
                node = self._parsed[token.inner] = parse_expression(token.inner)
            value = value_of(evaluate(node, scope, text.file))
            if is_nothing(value):
                raise ExpressionProblem(f"{token.inner.strip()} not found")
            return value
        except ExpressionProblem as problem:
            mark = text.mark_of_occurrence(token.occurrence)
            raise SpecError.at(mark, problem.reason, token.source) from None

    @staticmethod
    def _deferred(token: Token, text: MarkedStr, value: Unknown) -> Deferred:
        mark = text.mark_of_occurrence(token.occurrence)
        return Deferred(token.source, value.node, mark.file, mark.line, mark.column)

    @staticmethod
    def _pending(text: MarkedStr, pieces: list[str | Deferred]) -> Pending:
        if len(pieces) == 1 and isinstance(pieces[0], Deferred):
            only = pieces[0].node
            if isinstance(only, PendingRef):  # `${resources.b.props.x}` where x is pending
                return only.pending
        return Pending(str(text), tuple(pieces), text.file, text.line, text.column)


class Scope:
    """Names visible to an expression, by where it is written.

    - ``global``: top-level keys, vars, templates, component names, global actions;
    - ``resource``: a resource's props and actions (adds ``this``, ``resources.X.props``);
    - ``env``: env.yaml overlays (``source``, ``this`` = the environment, ``project``).
    """

    def __init__(
        self,
        resolver: Resolver,
        kind: str,
        *,
        resource: str | None = None,
        entry: dict[str, Any] | None = None,
    ) -> None:
        self.resolver = resolver
        self.kind = kind
        self.resource = resource
        self.entry = entry
        self.key = kind if resource is None else f"{kind}:{resource}"

    def lookup(self, name: str, origin: str) -> Any:
        resolver = self.resolver
        if name in FUNCTIONS:
            hint = " (the 2.x form ${env.X} is ${env('X')} in 3.x)" if name == "env" else ""
            raise ExpressionProblem(f"{name} is a function: call it{hint}")
        if name == "cwd":
            return directory_of(origin)
        if name == "credential":
            return dict(resolver.builtins.config)
        if self.kind == "env":
            return self._environment_name(name)
        if name == "vars":
            return TreeHandle(resolver, resolver.variables, resolver.global_scope(), "vars")
        if name == "resources":
            return ResourcesHandle(self)
        if name == "this":
            if self.resource is None:
                raise ExpressionProblem("'this' is only defined inside a resource")
            return ThisHandle(self, self.resource)
        raise ExpressionProblem(f"'{name}' is not defined")

    def _environment_name(self, name: str) -> Any:
        resolver = self.resolver
        assert self.resource is not None
        assert self.entry is not None
        if name == "source":
            tree = resolver.trees.before_overlays(self.resource)
            return TreeHandle(resolver, tree, resolver.resource_scope(self.resource), "source")
        if name == "this":
            return self.entry
        if name == "project":
            return resolver.project_name if resolver.project_name is not None else UNDEFINED
        raise ExpressionProblem(f"'{name}' is not defined in env.yaml (source, this, project are)")

    def call(self, function: str, args: list[Any], origin: str) -> Any:
        return self.resolver.builtins.call(function, args, origin)

    def output(self, resource: str) -> Any:
        return Unknown(OutputRef(resource))


class TreeHandle(Handle):
    """Part of a raw tree: members resolve one at a time, the whole on materialize()."""

    def __init__(self, resolver: Resolver, tree: MarkedMap | MarkedList, scope: Scope, label: str):
        self.resolver, self.tree, self.scope, self.label = resolver, tree, scope, label

    def member(self, key: str) -> Any:
        if isinstance(self.tree, MarkedMap):
            if key not in self.tree:
                return UNDEFINED
            child = self.tree[key]
        elif key == "length":
            return len(self.tree)
        elif key.isdigit() and int(key) < len(self.tree):
            child = self.tree[int(key)]
        else:
            return UNDEFINED
        return self.resolver.lazy(child, self.scope, f"{self.label}.{key}")

    def materialize(self) -> Any:
        return self.resolver.resolve(self.tree, self.scope, self.label)


class ResourcesHandle(Handle):
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def member(self, key: str) -> Any:
        names = self.scope.resolver.trees.names
        if key not in names:
            similar = [n for n in names if n.startswith(f"{key}-")]
            hint = f" (a name with '-' is written resources['{similar[0]}'])" if similar else ""
            raise ExpressionProblem(f"unknown resource '{key}'{hint}")
        return ResourceHandle(self.scope, key)

    def materialize(self) -> Any:
        raise ExpressionProblem("'resources' is not a value; use resources.<name>.props or .output")


class ResourceHandle(Handle):
    def __init__(self, scope: Scope, name: str) -> None:
        self.scope, self.name = scope, name

    def member(self, key: str) -> Any:
        resolver = self.scope.resolver
        if key == "props":
            if self.scope.kind != "resource":
                raise ExpressionProblem(
                    f"resources.{self.name}.props is only available inside a resource"
                )
            tree = resolver.trees.tree(self.name)
            scope = resolver.resource_scope(self.name)
            return TreeHandle(resolver, tree, scope, f"resources.{self.name}.props")
        if key == "output":
            return self.scope.output(self.name)
        if key == "info":
            raise ExpressionProblem(
                f"resources.{self.name}.info (the output of `s info`) is not supported"
            )
        return UNDEFINED

    def materialize(self) -> Any:
        raise ExpressionProblem(f"resources.{self.name} is not a value; use .props or .output")


class ThisHandle(Handle):
    def __init__(self, scope: Scope, name: str) -> None:
        self.scope, self.name = scope, name

    def member(self, key: str) -> Any:
        resolver = self.scope.resolver
        if key == "name":
            return self.name
        if key == "access":
            return resolver.access if resolver.access is not None else UNDEFINED
        if key == "component":
            return resolver.trees.component(self.name)
        if key in ("props", "output", "info"):
            return ResourceHandle(self.scope, self.name).member(key)
        return UNDEFINED

    def materialize(self) -> Any:
        values = {k: value_of(self.member(k)) for k in ("name", "access", "component", "props")}
        return {k: v for k, v in values.items() if not is_nothing(v)}


class KeyScope(Scope):
    """Action and flow keys: compiled against a command, with ``regex()`` only."""

    def __init__(self, resolver: Resolver, command: str) -> None:
        super().__init__(resolver, "key")
        self.command = command
        self.key = f"key:{command}"

    def lookup(self, name: str, origin: str) -> Any:
        raise ExpressionProblem(f"'{name}' is not defined here: keys may only use regex()")

    def call(self, function: str, args: list[Any], origin: str) -> Any:
        if function != "regex":
            raise ExpressionProblem(f"{function}() cannot be used in a key: only regex() can")
        return self.resolver.builtins.call(function, args, origin, self.command)

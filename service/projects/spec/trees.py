"""Each resource's props tree, built on first use: template, props, env.yaml overlays.

The tree is what ``${this.props...}`` and ``${resources.X.props...}`` walk:
still unresolved where it came from the resource's own props, already
resolved where a template (compiled in the global scope, as upstream) or an
env.yaml overlay (compiled in its own scope) supplied it.
"""

from __future__ import annotations

from typing import Any

from service.projects.spec.envyaml import Environment
from service.projects.spec.errors import ExpressionProblem, SpecError
from service.projects.spec.loader import MarkedMap, MarkedStr
from service.projects.spec.resolve import Resolver
from service.projects.spec.templates import deep_merge, template_of


class ResourceTrees:
    """The trees of one document's resources; ``resolved`` props replace the written ones."""

    def __init__(
        self,
        resolver: Resolver,
        declarations: dict[MarkedStr, MarkedMap],
        templates: Any,
        environment: Environment | None,
        resolved: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.resolver = resolver
        self.declarations = {str(k): v for k, v in declarations.items()}
        self.keys = {str(k): k for k in declarations}
        self.names = list(self.declarations)
        self.templates = templates
        self.environment = environment
        self.resolved = resolved or {}
        self._components: dict[str, str] = {}
        self._before: dict[str, MarkedMap] = {}
        self._final: dict[str, MarkedMap] = {}
        self._building: set[str] = set()

    def key_of(self, name: str) -> MarkedStr:
        return self.keys[name]

    def component(self, name: str) -> str:
        if name not in self._components:
            declaration = self.declarations[name]
            raw = declaration.get("component")
            label = f"resources.{name}.component"
            value = self.resolver.resolve(raw, self.resolver.global_scope(), label)
            if not isinstance(value, str) or not value:
                raise SpecError.at(self.keys[name].mark, f"resource '{name}' needs a component")
            self._components[name] = value
        return self._components[name]

    def before_overlays(self, name: str) -> MarkedMap:
        if name not in self._before:
            declaration = self.declarations[name]
            props = self.resolved.get(name, declaration.get("props"))
            if props is None:
                props = MarkedMap(declaration.mark)
            if not isinstance(props, dict):
                raise SpecError.at(
                    self.keys[name].mark, f"resources.{name}.props must be a mapping"
                )
            if not isinstance(props, MarkedMap):  # resolved already (file-level extend)
                props = _marked(props, declaration)
            template = template_of(declaration, self.templates, name)
            if template is not None:
                scope = self.resolver.global_scope()
                resolved = self.resolver.resolve(template, scope, f"resources.{name}.extend")
                props = deep_merge(resolved, props)
            self._before[name] = props
        return self._before[name]

    def tree(self, name: str) -> MarkedMap:
        if name in self._final:
            return self._final[name]
        if name in self._building:
            raise ExpressionProblem(f"cycle: resources.{name}.props is needed by its own overlay")
        self._building.add(name)
        try:
            self._final[name] = self._overlaid(name)
        finally:
            self._building.discard(name)
        return self._final[name]

    def _overlaid(self, name: str) -> MarkedMap:
        tree = self.before_overlays(name)
        chosen = self.environment
        if chosen is None:
            return tree
        resolver = self.resolver
        scope = resolver.environment_scope(name, chosen.as_this(resolver.project_name))
        for section, key in (("components", self.component(name)), ("resources", name)):
            overlay = chosen.overlay(section, key)
            if overlay is not None:
                label = f"overlays.{section}.{key}"
                tree = deep_merge(tree, resolver.resolve(overlay, scope, label))
        region = chosen.infrastructure_region()
        if region is not None:
            resolved_region = resolver.resolve(region, scope, "infraStack.region")
            tree = deep_merge(tree, {"region": resolved_region})
        merged: MarkedMap = tree
        return merged


def _marked(props: dict[str, Any], declaration: MarkedMap) -> MarkedMap:
    wrapped = MarkedMap(declaration.mark)
    wrapped.update(props)
    return wrapped

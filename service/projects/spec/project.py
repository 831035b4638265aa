"""parse_project: from the submitted files to a resolved Project.

The pipeline is parse-spec's: file-level ``extend``, the
environment, then top-level keys (vars, template, actions, flow) in the global
scope, then each resource — component, template merge minus ``ignore``,
env.yaml overlays, props and actions in the resource's scope — and finally
the order and ``flow``. Everything the files may read is passed in: the
files themselves, the environment variables, the account's config values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.projects.spec.actions import COMMAND, parse_actions
from service.projects.spec.dotenv import dotenv_directories, with_dotenv
from service.projects.spec.envyaml import Environment, select_environment
from service.projects.spec.errors import Mark, SpecError
from service.projects.spec.functions import Builtins
from service.projects.spec.jsvalues import to_text
from service.projects.spec.limits import MAX_RESOLVED_NODES, MAX_YAML_DEPTH
from service.projects.spec.loader import MarkedMap, MarkedStr
from service.projects.spec.model import Action, Project, Resource
from service.projects.spec.order import Edge, dependency_order, flow_layers, output_edges
from service.projects.spec.resolve import Resolver
from service.projects.spec.templates import Extension, deep_merge, file_extension, load_document
from service.projects.spec.trees import ResourceTrees

EDITION = "3.0.0"
# `access: ${aliyun-cli}` names the aliyun CLI's current profile; it is not an expression.
ALIYUN_CLI_ACCESS = "${aliyun-cli}"


class _Warnings(list[str]):
    def add(self, message: str) -> None:
        if message not in self:
            self.append(message)


def parse_project(
    files: Mapping[str, str],
    *,
    main: str = "s.yaml",
    env: Mapping[str, str],
    config: Mapping[str, str],
    environment: str | None = None,
) -> Project:
    """The project in ``files[main]``, resolved; SpecError names file, line and column.

    ``files`` holds every file the project reads (env.yaml, extend bases,
    ``${file()}`` targets), by path relative to the project root.
    """
    warnings = _Warnings()
    document = load_document(files, main)
    extension = file_extension(document, files, main)
    if extension is not None:
        document = extension.merged
    edition = _edition(document)
    chosen = select_environment(
        document, files, main, environment, extension is not None, warnings.add
    )
    base = None if extension is None else extension.base_path
    env = with_dotenv(env, files, dotenv_directories(document, main, base))
    env_used: dict[str, str | None] = {}
    builtins = Builtins(files=files, env=env, config=config, env_used=env_used, warn=warnings.add)
    resolved = None if extension is None else _extended_props(extension, builtins)
    resolver, trees = _open(document, builtins, chosen, resolved)
    scope = resolver.global_scope()
    budget = _Budget()
    variables = budget.copy(
        resolver.resolve(resolver.variables, scope, "vars"), resolver.variables.mark
    )

    resources: dict[str, Resource] = {}
    edges: dict[str, list[Edge]] = {}
    for name in trees.names:
        props = budget.copy(_props(resolver, trees, name), trees.key_of(name).mark)
        edges[name] = output_edges(name, props)
        depends_on = {e.dependency for e in edges[name]}
        actions = _resource_actions(resolver, trees.declarations[name], name, warnings)
        line = trees.key_of(name).line
        resources[name] = Resource(name, trees.component(name), props, actions, depends_on, line)

    order = dependency_order(trees.names, edges)
    flow = document.get("flow")
    if flow is not None and not isinstance(flow, MarkedMap):
        raise SpecError.at(document.mark, "flow must map commands to lists of resource lists")
    layers = flow_layers(flow, trees.names, edges, resolver, COMMAND, warnings.add)
    global_actions = parse_actions(
        document.get("actions"),
        resolver=resolver,
        scope=scope,
        resource=None,
        owner=document,
        warn=warnings.add,
    )
    return Project(
        name=resolver.project_name,
        edition=edition,
        access=resolver.access,
        vars=variables,
        resources=resources,
        layers=layers if layers is not None else [[n] for n in order],
        flow=bool(flow),
        actions=global_actions,
        warnings=list(warnings),
        env_used=env_used,
    )


def _open(
    document: MarkedMap,
    builtins: Builtins,
    chosen: Environment | None,
    resolved: dict[str, dict[str, Any]] | None,
) -> tuple[Resolver, ResourceTrees]:
    """A resolver for ``document``, its top-level keys compiled as upstream does first."""
    resolver = Resolver(builtins, _mapping(document, "vars"))
    templates = document.get("template")
    trees = ResourceTrees(resolver, _declarations(document), templates, chosen, resolved)
    resolver.resources = trees
    scope = resolver.global_scope()
    if templates is not None:
        resolver.resolve(templates, scope, "template")  # upstream compiles them all up front
    name = resolver.resolve(document.get("name"), scope, "name")
    resolver.project_name = None if name is None else to_text(name)
    resolver.access = _access(document, chosen, resolver)
    return resolver, trees


def _props(resolver: Resolver, trees: ResourceTrees, name: str) -> dict[str, Any]:
    scope = resolver.resource_scope(name)
    props: dict[str, Any] = resolver.resolve(trees.tree(name), scope, f"resources.{name}.props")
    return props


def _extended_props(extension: Extension, builtins: Builtins) -> dict[str, dict[str, Any]]:
    """Each resource's props as upstream has them after extend: base's and child's, merged."""
    merged: dict[str, dict[str, Any]] = {}
    for view in (extension.base, extension.child):
        resolver, trees = _open(view, builtins, None, None)
        for name in trees.names:
            merged[name] = deep_merge(merged.get(name, {}), _props(resolver, trees, name))
    return merged


def _resource_actions(
    resolver: Resolver, declaration: MarkedMap, name: str, warnings: _Warnings
) -> list[Action]:
    scope = resolver.resource_scope(name)
    own: dict[str, Any] = {}
    if "allow_failure" in declaration:  # a resource's allow_failure wins over its actions'
        label = f"resources.{name}.allow_failure"
        own["allow_failure"] = resolver.resolve(declaration["allow_failure"], scope, label)
    return parse_actions(
        declaration.get("actions"),
        resolver=resolver,
        scope=scope,
        resource=name,
        owner=declaration,
        warn=warnings.add,
        **own,
    )


def _edition(document: MarkedMap) -> str:
    edition = document.get("edition")
    if edition is None:
        raise SpecError.at(document.mark, f"edition is missing (Serverless Devs 3.x: {EDITION})")
    if to_text(edition) != EDITION:
        mark = edition.mark if isinstance(edition, MarkedStr) else document.mark
        raise SpecError.at(
            mark,
            f"edition {to_text(edition)} is not supported: fcplane reads Serverless Devs 3.x "
            f"project files (edition: {EDITION}); `s cli fc3 s2tos3` converts 2.x files",
        )
    if "resources" not in document and "services" in document:
        raise SpecError.at(
            document.mark, "Keyword 'services' has been replaced by 'resources' in 3.0.0 YAML."
        )
    return EDITION


def _mapping(document: MarkedMap, key: str) -> MarkedMap:
    value = document.get(key)
    if value is None:
        return MarkedMap(document.mark)
    if not isinstance(value, MarkedMap):
        raise SpecError.at(document.mark, f"{key} must be a mapping")
    return value


def _access(document: MarkedMap, chosen: Environment | None, resolver: Resolver) -> str | None:
    """CLI ``-a`` (not here) > env.yaml ``access`` > s.yaml ``access``."""
    if chosen is not None and chosen.access:
        return chosen.access
    access = document.get("access")
    if access is None or access == ALIYUN_CLI_ACCESS:
        return None if access is None else ALIYUN_CLI_ACCESS
    return to_text(resolver.resolve(access, resolver.global_scope(), "access"))


def _declarations(document: MarkedMap) -> dict[MarkedStr, MarkedMap]:
    declarations: dict[MarkedStr, MarkedMap] = {}
    for key, declaration in _mapping(document, "resources").marked_items():
        if not isinstance(declaration, MarkedMap):
            raise SpecError.at(key.mark, f"resource '{key}' must be a mapping (component, props)")
        declarations[key] = declaration
    return declarations


class _Budget:
    """Copies resolved values out, counting every appearance of shared structure."""

    def __init__(self) -> None:
        self.left = MAX_RESOLVED_NODES

    def copy(self, value: Any, mark: Mark) -> Any:
        copied = self._copy(value, 0)
        if copied is _OVER:
            raise SpecError.at(
                mark,
                f"resolves to more than {MAX_RESOLVED_NODES} values once shared references are "
                f"expanded, or to values nested deeper than {_MAX_COPY_DEPTH}",
            )
        return copied

    def _copy(self, value: Any, depth: int) -> Any:
        self.left -= 1
        if self.left < 0 or depth > _MAX_COPY_DEPTH:
            return _OVER
        if isinstance(value, dict):
            items = {k: self._copy(v, depth + 1) for k, v in value.items()}
            return _OVER if _OVER in items.values() else items
        if isinstance(value, list):
            listed = [self._copy(v, depth + 1) for v in value]
            return _OVER if any(v is _OVER for v in listed) else listed
        return value  # scalars and Pending markers are immutable


_OVER = object()
_MAX_COPY_DEPTH = 2 * MAX_YAML_DEPTH  # json() may nest deeper than YAML, within reason

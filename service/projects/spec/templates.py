"""Merging: file-level ``extend``, resource ``extend`` from ``template``, and ``ignore``.

Upstream merges with extend2 deep mode: mappings merge key by key with the
later one winning, and everything else — lists included — is replaced, so a
child's ``triggers`` replaces the base's instead of being spliced into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.projects.spec.errors import SpecError
from service.projects.spec.functions import join_path
from service.projects.spec.loader import MarkedList, MarkedMap, MarkedStr, load_yaml


def deep_merge(base: Any, override: Any) -> Any:
    """``extend2(true, {}, base, override)``."""
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return override
    result: dict[str, Any] = {}
    if isinstance(override, MarkedMap):
        result = MarkedMap(override.mark)
    elif isinstance(base, MarkedMap):
        result = MarkedMap(base.mark)
    # Keys keep the base's order but the override's key objects: a resource
    # redefined by a child file is reported at the child's line.
    written: dict[str, str] = {key: key for key in override}
    for key, value in base.items():
        result[written[key] if key in written else key] = value
    for key, value in override.items():
        current = result.get(key)
        both_maps = isinstance(current, dict) and isinstance(value, dict)
        result[key] = deep_merge(current, value) if both_maps else value
    return result


def without(tree: MarkedMap, paths: list[str]) -> MarkedMap:
    """``lodash.omit(tree, paths)``: a copy without the (dotted) paths."""
    result = tree
    for path in paths:
        result = _unset(result, path.split("."))
    return result


def _unset(tree: MarkedMap, keys: list[str]) -> MarkedMap:
    if keys[0] not in tree:
        return tree
    copy = MarkedMap(tree.mark)
    copy.update(tree)
    if len(keys) == 1:
        del copy[keys[0]]
    elif isinstance(copy[keys[0]], MarkedMap):
        copy[keys[0]] = _unset(copy[keys[0]], keys[1:])
    return copy


def load_document(files: Mapping[str, str], path: str) -> MarkedMap:
    if path not in files:
        raise SpecError("file not found", file=path)
    document = load_yaml(files[path], path)
    if not isinstance(document, MarkedMap):
        raise SpecError("a project file must be a mapping (edition, resources, ...)", file=path)
    return document


@dataclass(frozen=True)
class Extension:
    """A document with ``extend: base.yaml``, and the two views upstream parses.

    Upstream (parse-spec ``doExtend``) merges the top-level keys other than
    ``resources`` (base, then child), parses base and child each with those
    keys and its own resources, and deep-merges the two results: so a child
    overriding ``service.name`` keeps the rest of what the base's
    ``service: ${vars.service}`` resolved to.
    """

    merged: MarkedMap
    base: MarkedMap  # the base's resources with the merged top-level keys
    child: MarkedMap  # the child's resources with the merged top-level keys
    base_path: str


def file_extension(document: MarkedMap, files: Mapping[str, str], main: str) -> Extension | None:
    reference = document.get("extend")
    if reference is None:
        return None
    if not isinstance(reference, MarkedStr):
        raise SpecError.at(document.mark, "extend must name a YAML file")
    target = join_path(main, reference)
    if target not in files:
        raise SpecError.at(reference.mark, f"extend file '{reference}' not found")
    base = load_document(files, target)
    merged: MarkedMap = deep_merge(base, document)
    return Extension(merged, _view(merged, base), _view(merged, document), target)


def _view(merged: MarkedMap, own: MarkedMap) -> MarkedMap:
    view = MarkedMap(own.mark)
    view.update((k, v) for k, v in merged.items() if k != "resources")
    if "resources" in own:
        view["resources"] = own["resources"]
    return view


def template_of(declaration: MarkedMap, templates: Any, resource: str) -> MarkedMap | None:
    """The template a resource's ``extend: {name, ignore}`` pulls in, minus ``ignore``."""
    extend = declaration.get("extend")
    if extend is None:
        return None
    mark = declaration.mark
    if not isinstance(extend, MarkedMap) or not isinstance(extend.get("name"), MarkedStr):
        raise SpecError.at(mark, f"resources.{resource}.extend needs a template name")
    name = extend["name"]
    if not isinstance(templates, MarkedMap) or not isinstance(templates.get(name), MarkedMap):
        raise SpecError.at(name.mark, f"unknown template '{name}'")
    ignore = extend.get("ignore", [])
    if isinstance(ignore, str):  # seen in practice: `ignore: vpcConfig`
        ignore = [ignore]
    if not isinstance(ignore, MarkedList | list) or not all(isinstance(i, str) for i in ignore):
        raise SpecError.at(name.mark, "extend.ignore must be a list of prop names")
    template: MarkedMap = templates[name]
    return without(template, [str(i) for i in ignore])
